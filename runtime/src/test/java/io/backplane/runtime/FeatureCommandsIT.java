package io.backplane.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.backplane.control.client.ControlClient;

import static io.backplane.runtime.LaunchedRuntime.FEATURES;
import static io.backplane.runtime.LaunchedRuntime.REPO;
import static io.backplane.runtime.LaunchedRuntime.await;
import static io.backplane.runtime.LaunchedRuntime.run;

/**
 * {@code feature:list}, {@code feature:install} and {@code feature:uninstall} in the launched
 * runtime while a guest's netfront and blkfront run traffic: uninstalling the strategies feature
 * moves both devices to grant-copy before the command returns, installing it moves them back
 * (autoSwap), a feature installed from a file adds its bundle; no device reconnects, every frame
 * comes back verified, every block request is answered and every sector reads back as written.
 * Then the runtime restarts and runs the features as they were left; refusals come as one line.
 */
class FeatureCommandsIT {

    private static final String GUEST_JAR = "bundles/guest/target/backplane-guest-0.1.0-SNAPSHOT-runnable.jar";
    private static final Pattern CREATED = Pattern.compile("Created domain (\\d+) .*; guest process (\\d+)");
    private static final String WORKLOAD = "--net size=1514,rate=1000,count=1000000000"
            + " --vbd ops=-1,depth=8,max-sectors=16,region=2048,fill=1,verify=1,seed=7";
    private static final String STRATEGIES = "backplane-ring-strategies";
    private static final String ZERO_COPY = "backplane-ring-zerocopy";

    @TempDir
    Path stateDir;
    @TempDir
    Path work;

    private final List<Process> processes = new CopyOnWriteArrayList<>();
    private ControlClient client;
    private int domid;

    private Process start(List<String> console) throws IOException, InterruptedException {
        Process p = LaunchedRuntime.start(stateDir, FEATURES, work.resolve("deploy"), console);
        processes.add(p);
        client = ControlClient.connect(stateDir.resolve("control.sock"));
        return p;
    }

    @AfterEach
    void stopAll() throws Exception {
        if (client != null) {
            client.close();
        }
        for (Process p : processes) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void strategyFeatureUninstalledAndInstalledUnderTrafficAndKeptAcrossARestart() throws Exception {
        assertThat(REPO.resolve(GUEST_JAR)).as("the guest program is built").isRegularFile();
        Path deploy = Files.createDirectories(work.resolve("deploy"));
        Files.writeString(deploy.resolve("io.backplane.toolstack.cfg"), "guestCommand = {java} -jar " + GUEST_JAR
                + " --state-dir {state} --domid {domid} " + WORKLOAD + "\n");
        Files.writeString(deploy.resolve("io.backplane.backend.cfg"), "autoSwap = true\n");
        Files.writeString(deploy.resolve("io.backplane.netback.sink.cfg"), "mode = memory\nmemory_loopback = true\n");
        Path image = work.resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(16 << 20);
        }
        Path cfg = work.resolve("busy.cfg");
        Files.writeString(cfg, "name = \"busy\"\nmemory = 64\nvif = [ \"bridge=br0,queues=2\" ]\n"
                + "disk = [ \"format=raw,vdev=xvda,access=rw,target=" + image + "\" ]\n");
        // A feature of our own, from a file outside features/: the map strategy alone.
        Path mapOnly = work.resolve("map-only.json");
        Files.writeString(mapOnly, "{ \"feature-resource-version\": \"1.0\", \"id\": \"test:map-only:osgifeature:1.0\","
                + " \"bundles\": [ { \"id\": \"io.backplane:backplane-ring-map:0.1.0-SNAPSHOT\", \"start-order\": 4 } ] }");

        List<String> console = new CopyOnWriteArrayList<>();
        start(console);
        createGuest(console);
        awaitTraffic("the guest's first traffic");
        assertThat(strategies()).as("the fittest for both").containsEntry("vif", "persistent").containsEntry("vbd", "persistent");
        // Zero-copy serves what persistent serves (ranked below it): out of the way, so that grant copy
        // is all that is left when the strategies feature goes. Taking it away moves nothing.
        assertThat(ok("feature:uninstall " + ZERO_COPY)).startsWith("feature " + ZERO_COPY + " uninstalled");
        assertThat(ok("feature:list")).containsPattern(STRATEGIES + " +installed +backplane-ring-persistent, backplane-ring-map");
        Map<String, Long> before = counters();

        String out = ok("feature:uninstall " + STRATEGIES);
        assertThat(out).isEqualTo("feature " + STRATEGIES + " uninstalled: 2 bundles removed (backplane-ring-map,"
                + " backplane-ring-persistent)\n");
        assertThat(strategies()).as("moved before the command returned")
                .containsEntry("vif", "grant-copy").containsEntry("vbd", "grant-copy");
        assertThat(ok("bp:bundles")).doesNotContain("backplane-ring-persistent").doesNotContain("backplane-ring-map");
        assertThat(ok("feature:list")).containsPattern(STRATEGIES + " +uninstalled ");
        awaitTraffic("the uninstall");

        assertThat(ok("feature:install " + STRATEGIES)).startsWith("feature " + STRATEGIES + " installed: 2 of 2 bundles new, installed");
        await("both devices back on persistent (autoSwap)", 30, () -> strategies().values().stream().allMatch("persistent"::equals));
        awaitTraffic("the install");

        ok("feature:uninstall " + STRATEGIES);
        assertThat(ok("feature:install " + mapOnly)).startsWith("feature map-only installed: 1 of 1 bundles new");
        assertThat(ok("feature:list")).containsPattern("map-only +installed +backplane-ring-map +\\(from " + Pattern.quote(mapOnly.toString()) + "\\)");
        awaitTraffic("installing map-only");
        assertThat(strategies()).as("map-batched-unmap is never chosen over grant-copy")
                .containsEntry("vif", "grant-copy").containsEntry("vbd", "grant-copy");

        Map<String, Long> after = counters();
        assertThat(after.get("vif connections")).as("the vif never reconnected " + after).isEqualTo(before.get("vif connections"));
        assertThat(after.get("vbd reconnects")).as("the vbd never reconnected " + after).isEqualTo(before.get("vbd reconnects"));
        assertThat(after.get("vif tx-failed") + after.get("vif tx-dropped") + after.get("vif rx-bad")).as(after.toString()).isZero();

        // Refusals, one line each, nothing changed.
        assertThat(fails("feature:install no-such-feature")).startsWith("no feature named no-such-feature in " + FEATURES);
        Path bad = Files.writeString(work.resolve("bad.json"), "{ \"bundles\": [ ");
        assertThat(fails("feature:install " + bad)).startsWith("feature descriptor " + bad + " is not valid");
        assertThat(fails("feature:install " + work.resolve("missing.json"))).isEqualTo("no feature descriptor file "
                + work.resolve("missing.json"));
        assertThat(fails("feature:install map-only")).isEqualTo("feature map-only is already installed (installed)");
        assertThat(fails("feature:uninstall " + STRATEGIES)).startsWith("feature " + STRATEGIES + " is not installed");
        assertThat(fails("feature:uninstall backplane-core")).startsWith("feature backplane-core holds the shell itself");
        assertThat(fails("feature:install")).startsWith("usage: feature:install NAME|FILE");
        assertThat(ok("bp:help feature:install")).contains("install a feature and start its bundles");

        Map<String, Long> done = stopBlock();
        assertThat(done.get("vbd answered")).as("every block request answered " + done).isEqualTo(done.get("vbd sent"));
        assertThat(done.get("vbd failed") + done.get("vbd mismatches")).as(done.toString()).isZero();
        assertThat(done.get("vbd verified-sectors")).isGreaterThanOrEqualTo(2048);
        System.out.println("FeatureCommandsIT: under traffic " + done);

        // A restart runs what was left: without the strategies feature, with map-only.
        client.close();
        client = null;
        Process first = processes.get(0);
        first.toHandle().destroy();
        assertThat(first.waitFor(60, TimeUnit.SECONDS)).isTrue();
        List<String> again = new CopyOnWriteArrayList<>();
        start(again);
        assertThat(again).anyMatch(l -> l.startsWith("features changed at runtime (") && l.contains("without " + STRATEGIES)
                && l.contains("with " + mapOnly));
        assertThat(ok("feature:list")).containsPattern(STRATEGIES + " +uninstalled ").containsPattern("map-only +installed ");
        assertThat(ok("bp:bundles")).contains("backplane-ring-map").doesNotContain("backplane-ring-persistent");
        assertThat(ok("feature:install " + STRATEGIES)).startsWith("feature " + STRATEGIES + " installed: 1 of 2 bundles new");
        assertThat(ok("feature:uninstall map-only")).isEqualTo("feature map-only uninstalled: no bundle removed, 1 kept for other features\n");
        assertThat(ok("feature:install " + ZERO_COPY)).startsWith("feature " + ZERO_COPY + " installed");
        assertThat(Files.readString(stateDir.resolve(RuntimeFeatures.STATE_FILE))).doesNotContain("uninstalled ")
                .doesNotContain("installed /");
    }

    private void createGuest(List<String> console) throws Exception {
        // FileInstall applies the deployed guest command soon after the start; a guest started before it is destroyed.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        List<String> tries = new ArrayList<>();
        while (true) {
            String created = ok("xl:create " + work.resolve("busy.cfg"));
            Matcher m = CREATED.matcher(created);
            assertThat(m.find()).as(created).isTrue();
            ProcessHandle p = ProcessHandle.of(Long.parseLong(m.group(2))).orElseThrow();
            if (p.info().arguments().map(a -> List.of(a).contains("--net")).orElse(false)) {
                domid = Integer.parseInt(m.group(1));
                return;
            }
            tries.add(created.trim() + " " + p.info().arguments().map(List::of).orElse(List.of()));
            ok("xl:destroy busy");
            assertThat(System.nanoTime()).as(() -> "the toolstack takes the deployed guest command; tries: " + tries
                    + "\n" + runtimeOutput(console)).isLessThan(deadline);
            Thread.sleep(500);
        }
    }

    /** What the runtime printed (its INFO lines, FileInstall's among them) and the deployed files as they are now. */
    private String runtimeOutput(List<String> console) {
        StringBuilder out = new StringBuilder("console:\n").append(String.join("\n", console));
        try (var files = Files.list(work.resolve("deploy"))) {
            for (Path f : files.sorted().toList()) {
                out.append("\n").append(f).append(":\n").append(Files.readString(f));
            }
        } catch (IOException e) {
            out.append("\n(deploy directory unreadable: ").append(e.getMessage()).append(')');
        }
        return out.toString();
    }

    /** The guest's own counters (its stats/ keys); answers are read before what was sent. */
    private Map<String, Long> counters() throws IOException {
        Map<String, Long> c = new LinkedHashMap<>();
        String vif = "/local/domain/" + domid + "/device/vif/0/stats/";
        String vbd = "/local/domain/" + domid + "/device/vbd/51712/stats/";
        for (String k : List.of("rx-verified", "tx-answered", "tx-sent", "tx-failed", "tx-dropped", "rx-bad", "rx-duplicates", "rx-missing", "connections")) {
            c.put("vif " + k, number(vif + k));
        }
        for (String k : List.of("answered", "sent", "failed", "mismatches", "verified-sectors", "reconnects")) {
            c.put("vbd " + k, number(vbd + k));
        }
        return c;
    }

    private long number(String path) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        client.run("xs:read " + path, out, new ByteArrayOutputStream());
        String v = out.toString(StandardCharsets.UTF_8).trim();
        return v.matches("\\d+") ? Long.parseLong(v) : 0;
    }

    /** 100 more frames answered and looped back verified, 100 more block requests answered; none failed, none twice. */
    private void awaitTraffic(String after) throws Exception {
        Map<String, Long> now = counters();
        await("traffic after " + after, 30, () -> {
            try {
                Map<String, Long> c = counters();
                assertThat(c.get("vif rx-verified")).as("no frame came back twice " + c).isLessThanOrEqualTo(c.get("vif tx-sent"));
                assertThat(c.get("vbd answered")).as("no request answered twice " + c).isLessThanOrEqualTo(c.get("vbd sent"));
                assertThat(c.get("vif rx-duplicates") + c.get("vif rx-missing")).as("every frame back once, in order " + c).isZero();
                return c.get("vif rx-verified") >= now.get("vif rx-verified") + 100
                        && c.get("vif tx-answered") >= now.get("vif tx-answered") + 100
                        && c.get("vbd answered") >= now.get("vbd answered") + 100;
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        });
    }

    private Map<String, Long> stopBlock() throws Exception {
        String vbd = "/local/domain/" + domid + "/device/vbd/51712";
        ok("xs:write " + vbd + "/backplane-stop 1");
        await("the block workload to finish", 60, () -> {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try {
                client.run("xs:read " + vbd + "/stats/phase", out, new ByteArrayOutputStream());
            } catch (IOException e) {
                return false;
            }
            return out.toString(StandardCharsets.UTF_8).trim().equals("done");
        });
        return counters();
    }

    /** The strategy per device type, from pv:devices (TYPE is the 2nd column, STRATEGY the 6th). */
    private Map<String, String> strategies() {
        Map<String, String> out = new HashMap<>();
        try {
            for (String line : ok("pv:devices").lines().skip(1).toList()) {
                String[] cols = line.trim().split("\\s+");
                if (cols.length > 5) {
                    out.put(cols[1], cols[5]);
                }
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return out;
    }

    private String ok(String command) throws IOException {
        return run(client, command);
    }

    /** Runs a command that must fail; returns its one-line message. */
    private String fails(String command) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertThat(client.run(command, out, err)).as(command + " fails").isEqualTo(1);
        String message = err.toString(StandardCharsets.UTF_8);
        assertThat(message.lines().count()).as("one line: " + message).isEqualTo(1);
        return message.trim();
    }
}
