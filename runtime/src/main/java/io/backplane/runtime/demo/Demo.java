package io.backplane.runtime.demo;

import static io.backplane.api.backend.XenbusState.CONNECTED;
import static io.backplane.api.backend.XenbusState.INITIALISING;

import io.backplane.api.backend.XenbusKeys;
import io.backplane.api.backend.XenbusState;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code ./backplane demo}: the whole platform in under a minute. Starts Backplane in sim mode on
 * a fresh state directory, creates the guest of {@code examples/demo.cfg}, waits for its vif and
 * vbd to connect, prints the negotiation, measures the traffic the guest's netfront and blkfront
 * simulators generate, changes features live with {@code pv:request} (each needs a reconnect),
 * checks that no request failed or went unanswered, destroys the guest and stops the runtime.
 * Everything goes through the control socket, as an operator's {@code ./backplane shell} would.
 * Exit status 0 when every step came out right, 1 with the reason otherwise.
 */
public final class Demo {

    private static final int STEPS = 10;
    private static final long CONNECT_TIMEOUT_SECONDS = 20;
    private static final Pattern CREATED = Pattern.compile("Created domain (\\d+) with ([^;]*)(?:; guest process (\\d+))?");
    private static final Pattern DEVICE = Pattern.compile("(\\d+)/(\\w+)/(\\d+)");

    /**
     * The live changes: each one needs a reconnect (the frontend reads these keys only while
     * connecting), so the device goes through Closing and back with traffic running.
     */
    private static final List<LiveChange> CHANGES = List.of(
            new LiveChange("vif", "queues", "1", XenbusKeys.MULTI_QUEUE_NUM_QUEUES),
            new LiveChange("vbd", XenbusKeys.MAX_RING_PAGE_ORDER, "1", XenbusKeys.RING_PAGE_ORDER));

    /**
     * The guest program with the demo's workload: netfront sends full-size frames on every queue
     * as fast as the ring takes them, blkfront runs random reads, writes, flushes and discards
     * (every read checked) until the domain goes.
     */
    static final String GUEST_COMMAND = "{java} -jar {guest.jar}"
            + " --state-dir {state} --domid {domid} --net size=" + TrafficSample.NET_FRAME_BYTES + ",rate=0,count=1000000000"
            + " --vbd ops=-1,depth=" + TrafficSample.VBD_DEPTH;

    private final DemoOptions options;
    private final PrintStream out;
    private final Progress progress;
    private RuntimeProcess runtime;
    private DemoShell shell;
    private String domain;
    private long guestPid = -1;

    private Demo(DemoOptions options, PrintStream out) {
        this.options = options;
        this.out = out;
        this.progress = new Progress(out, STEPS);
    }

    public static void main(String[] args) {
        DemoOptions options;
        try {
            options = DemoOptions.parse(args, repository());
        } catch (IllegalArgumentException e) {
            System.err.println("backplane demo: " + e.getMessage());
            System.exit(2);
            return;
        }
        System.exit(new Demo(options, System.out).run());
    }

    int run() {
        Thread cleanup = new Thread(this::cleanUp, "demo-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup); // Ctrl-C leaves no runtime or guest behind
        try {
            steps();
            out.printf("backplane demo: done in %.1f s; the runtime's log is %s%n", progress.elapsed(),
                    options.stateDir().resolve("backplane.log"));
            return 0;
        } catch (DemoFailure e) {
            out.flush();
            System.err.println("backplane demo: FAILED at " + progress.current() + ": " + e.getMessage());
            System.err.println("backplane demo: logs kept in " + options.stateDir() + " (backplane.log, runtime.out, guests/)");
            return 1;
        } catch (IOException e) {
            System.err.println("backplane demo: FAILED at " + progress.current() + ": " + e);
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            System.err.println("backplane demo: interrupted");
            return 130;
        } finally {
            cleanUp();
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or ran already
            }
        }
    }

    private void steps() throws DemoFailure, IOException, InterruptedException {
        progress.step("starting Backplane in sim mode (state dir " + options.stateDir() + ")");
        runtime = RuntimeProcess.start(options.runtimeJar(), demoFeatures(), options.stateDir());
        String running = runtime.awaitRunning(60);
        runtime.warnings().forEach(w -> progress.detail(w));
        shell = new DemoShell(options.stateDir());
        Matcher active = Pattern.compile("(\\d+ bundles active[^(]*)").matcher(running);
        progress.done("running, pid " + runtime.pid() + ", " + (active.find() ? active.group(1).strip() : running));

        progress.step("creating the guest from " + options.repo().relativize(options.config()));
        ensureDiskImage();
        List<DemoDevice> devices = create();

        progress.step("waiting for " + names(devices) + " to reach Connected (state 4) on both ends");
        for (DemoDevice d : devices) {
            awaitConnected(d, CONNECT_TIMEOUT_SECONDS);
        }
        progress.detail(shell.run("pv:devices"));
        progress.done("all connected");

        progress.step("negotiation: requested vs published vs what the frontend took");
        for (DemoDevice d : devices) {
            progress.detail(negotiation(shell.run("pv:show " + d.name())));
        }
        progress.done("shown");

        progress.step("traffic for " + options.trafficSeconds() + " s (the guest's netfront and blkfront simulators)");
        Map<DemoDevice, TrafficSample> before = measure(devices, options.trafficSeconds());

        progress.step("changing features live with pv:request (each needs a reconnect)");
        for (LiveChange change : CHANGES) {
            for (DemoDevice d : devices) {
                if (d.type().equals(change.type())) {
                    reconnectWith(d, change);
                }
            }
        }
        progress.done("applied");

        progress.step("traffic for " + options.trafficSeconds() + " s after the change");
        Map<DemoDevice, TrafficSample> after = measure(devices, options.trafficSeconds());

        progress.step("checking that no request failed or went unanswered");
        checkNothingLost(after);
        progress.done("none failed, every read verified, nothing unanswered beyond what is in flight");

        progress.step("destroying the guest");
        destroy(devices);

        progress.step("stopping Backplane (SIGTERM)");
        stopRuntime();
    }

    // --- steps ---------------------------------------------------------------------------------

    private void ensureDiskImage() throws IOException {
        Path image = options.diskImage();
        if (Files.exists(image)) {
            progress.detail("disk image " + options.repo().relativize(image) + " (" + Files.size(image) / (1 << 20) + " MiB)");
            return;
        }
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(64L << 20); // sparse, as truncate -s 64M makes it
        }
        progress.detail("created the disk image " + options.repo().relativize(image) + " (64 MiB, sparse)");
    }

    private List<DemoDevice> create() throws DemoFailure {
        String created = shell.run("xl:create " + options.config());
        Matcher m = CREATED.matcher(created);
        if (!m.find()) {
            throw new DemoFailure("xl:create answered '" + created + "', not 'Created domain N with ...'");
        }
        int domid = Integer.parseInt(m.group(1));
        domain = shell.read("/local/domain/" + domid + "/name").orElseThrow(() ->
                new DemoFailure("domain " + domid + " has no name in XenStore"));
        guestPid = m.group(3) == null ? -1 : Long.parseLong(m.group(3));
        List<DemoDevice> devices = new ArrayList<>();
        Matcher d = DEVICE.matcher(m.group(2));
        while (d.find()) {
            devices.add(new DemoDevice(domain, domid, d.group(2), Integer.parseInt(d.group(3))));
        }
        if (devices.isEmpty()) {
            throw new DemoFailure("xl:create made no device: " + created);
        }
        progress.done(created);
        return devices;
    }

    private void awaitConnected(DemoDevice d, long timeoutSeconds) throws DemoFailure, InterruptedException {
        long begin = System.nanoTime();
        long deadline = begin + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (System.nanoTime() < deadline) {
            XenbusState be = state(d.backend());
            if (be == CONNECTED && state(d.frontend()) == CONNECTED) {
                return;
            }
            // A backend probes within milliseconds; still Initialising after seconds means none is there.
            if (be == INITIALISING && System.nanoTime() - begin > TimeUnit.SECONDS.toNanos(5)) {
                break;
            }
            Thread.sleep(50);
        }
        XenbusState be = state(d.backend());
        XenbusState fe = state(d.frontend());
        String why = "";
        if (be == INITIALISING && !shell.run("pv:devices").contains(" " + d.type() + " ")) {
            why = "; no " + d.type() + " backend picked it up: is " + d.driver() + " installed and active? (bp:status)";
        } else {
            Optional<String> error = shell.read(d.backend() + "/" + XenbusKeys.ERROR)
                    .or(() -> readQuietly(d.frontend() + "/" + XenbusKeys.ERROR));
            if (error.isPresent()) {
                why = "; error: " + error.get();
            }
        }
        throw new DemoFailure(d.name() + " did not connect in " + (System.nanoTime() - begin) / 1_000_000_000 + " s: backend "
                + named(be) + ", frontend " + named(fe) + why);
    }

    /**
     * Samples every device's counters when they have just been refreshed (the simulators write
     * them every half second), waits {@code seconds}, samples again and prints the rates.
     */
    private Map<DemoDevice, TrafficSample> measure(List<DemoDevice> devices, int seconds)
            throws DemoFailure, InterruptedException {
        Map<DemoDevice, TrafficSample> first = new LinkedHashMap<>();
        for (DemoDevice d : devices) {
            first.put(d, freshSample(d, null));
        }
        Thread.sleep(TimeUnit.SECONDS.toMillis(seconds));
        Map<DemoDevice, TrafficSample> last = new LinkedHashMap<>();
        for (DemoDevice d : devices) {
            TrafficSample end = freshSample(d, first.get(d));
            last.put(d, end);
            if (end.operations() == first.get(d).operations()) {
                throw new DemoFailure(d.name() + ": no traffic in " + seconds + " s (counters under " + d.stats()
                        + ": " + end.stats() + ")");
            }
            progress.detail(end.rateSince(first.get(d)));
        }
        progress.done("measured");
        return last;
    }

    /** The device's counters right after the frontend rewrote them (so the time stamp is exact). */
    private TrafficSample freshSample(DemoDevice d, TrafficSample previous) throws DemoFailure, InterruptedException {
        TrafficSample base = sample(d);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        while (System.nanoTime() < deadline) {
            TrafficSample now = sample(d);
            if (!now.stats().equals(base.stats())) {
                return now;
            }
            Thread.sleep(10);
        }
        if (base.stats().isEmpty()) {
            throw new DemoFailure(d.name() + ": the frontend reports no counters under " + d.stats()
                    + " (is the guest's " + (d.type().equals("vif") ? "netfront" : "blkfront") + " simulator running? see "
                    + options.stateDir().resolve("guests") + ")");
        }
        return previous == null ? base : sample(d);
    }

    private TrafficSample sample(DemoDevice d) throws DemoFailure {
        return new TrafficSample(d, System.nanoTime(), shell.tree(d.stats()));
    }

    /**
     * Asks for the change, then follows the device: the backend must leave Connected (Closing)
     * and come back, the frontend must take the new value, and traffic must go on.
     */
    private void reconnectWith(DemoDevice d, LiveChange change) throws DemoFailure, InterruptedException {
        String answer = shell.run("pv:request " + d.name() + " " + change.feature() + " " + change.value());
        progress.detail("pv:request " + d.name() + " " + change.feature() + " " + change.value() + " -> " + answer);
        if (!answer.contains("reconnects")) {
            throw new DemoFailure("the policy did not reconnect " + d.name() + " for " + change.feature() + ": " + answer);
        }
        List<String> seen = new ArrayList<>(List.of(named(CONNECTED)));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(CONNECT_TIMEOUT_SECONDS);
        String frontendKey = d.frontend() + "/" + change.frontendKey();
        while (System.nanoTime() < deadline) {
            XenbusState be = state(d.backend());
            String name = named(be);
            if (!seen.get(seen.size() - 1).equals(name)) {
                seen.add(name);
            }
            // The frontend writes the key only while connecting, so the new value means it reconnected.
            if (be == CONNECTED && state(d.frontend()) == CONNECTED
                    && change.value().equals(readQuietly(frontendKey).orElse(""))) {
                progress.detail("  backend " + String.join(" -> ", seen) + "; the frontend took " + change.frontendKey()
                        + "=" + change.value());
                return;
            }
            Thread.sleep(5);
        }
        throw new DemoFailure(d.name() + " did not come back Connected with " + change.frontendKey() + "=" + change.value()
                + " within " + CONNECT_TIMEOUT_SECONDS + " s (backend states seen: " + String.join(" -> ", seen)
                + "; frontend has " + readQuietly(frontendKey).orElse("nothing") + ")");
    }

    private void checkNothingLost(Map<DemoDevice, TrafficSample> samples) throws DemoFailure {
        List<String> problems = new ArrayList<>();
        for (TrafficSample s : samples.values()) {
            s.problems().forEach(p -> problems.add(s.device().name() + ": " + p));
            progress.detail(s.summary());
        }
        if (!problems.isEmpty()) {
            throw new DemoFailure(String.join("; ", problems));
        }
    }

    private void destroy(List<DemoDevice> devices) throws DemoFailure, InterruptedException {
        progress.detail(shell.run("xl:destroy " + domain));
        int domid = devices.get(0).domid();
        String name = domain;
        domain = null;
        if (readQuietly("/local/domain/" + domid).isPresent()) {
            throw new DemoFailure("/local/domain/" + domid + " is still in XenStore after xl:destroy");
        }
        for (DemoDevice d : devices) {
            if (readQuietly(d.backend()).isPresent()) {
                throw new DemoFailure(d.backend() + " is still in XenStore after xl:destroy");
            }
        }
        if (shell.run("xl:list").lines().anyMatch(l -> l.startsWith(name + " "))) {
            throw new DemoFailure("xl:list still shows " + name + " after xl:destroy");
        }
        if (guestPid > 0) {
            Optional<ProcessHandle> guest = ProcessHandle.of(guestPid);
            if (guest.isPresent() && guest.get().isAlive()) {
                guest.get().onExit().orTimeout(5, TimeUnit.SECONDS).exceptionally(t -> null).join();
                if (guest.get().isAlive()) {
                    throw new DemoFailure("the guest process " + guestPid + " still runs after xl:destroy");
                }
            }
        }
        progress.done("domain " + domid + ", its devices and its guest process are gone");
    }

    private void stopRuntime() throws DemoFailure, InterruptedException, IOException {
        shell.close();
        shell = null;
        int status = runtime.stop(30);
        // 143 is the JVM's status after SIGTERM once its shutdown hooks ran, so a clean stop too.
        boolean clean = runtime.lastLines(1).equals("Backplane stopped") && (status == 0 || status == 143);
        if (!clean) {
            throw new DemoFailure("the runtime exited with status " + status + ": " + runtime.lastLines(5));
        }
        if (Files.exists(options.stateDir().resolve("control.sock"))) {
            throw new DemoFailure("the runtime left its control socket behind");
        }
        progress.done("stopped cleanly: every bundle stopped, sockets removed");
    }

    // --- helpers -------------------------------------------------------------------------------

    /** pv:show without the per-queue counters: the feature table, the reasons, and the device's strategy line. */
    static String negotiation(String show) {
        StringBuilder out = new StringBuilder();
        boolean status = false;
        for (String line : show.split("\n")) {
            if (line.equals("status:")) {
                status = true;
                continue;
            }
            if (!status) {
                out.append(line).append('\n');
            } else if (line.matches("  (strategy|queues|ring-page-order|ring|sink|features) = .*")) {
                out.append(line).append('\n');
            }
        }
        return out.toString().stripTrailing();
    }

    /**
     * The repository's features plus one of the demo's own that configures the guest workload.
     * The launcher applies feature configurations before any component starts, so the toolstack
     * has the demo's guest command from its first activation (a file in the deploy directory
     * would reach it some time later).
     */
    private Path demoFeatures() throws IOException {
        Path dir = Files.createDirectories(options.stateDir().resolve("features"));
        try (var features = Files.list(options.repo().resolve("features"))) {
            for (Path f : features.filter(f -> f.toString().endsWith(".json")).toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        Files.writeString(dir.resolve("backplane-demo.json"), """
                {
                  "feature-resource-version": "1.0",
                  "id": "io.backplane:backplane-demo:osgifeature:0.1.0-SNAPSHOT",
                  "name": "Backplane demo workload",
                  "description": "Written by ./backplane demo: the guest program's netfront and blkfront traffic.",
                  "bundles": [],
                  "configurations": {
                    "io.backplane.toolstack": { "guestCommand": "%s" }
                  }
                }
                """.formatted(GUEST_COMMAND));
        return dir;
    }

    private XenbusState state(String dir) throws DemoFailure {
        String v = shell.read(dir + "/" + XenbusKeys.STATE).orElse(null);
        try {
            return XenbusState.ofWire(v);
        } catch (IllegalArgumentException e) {
            throw new DemoFailure(dir + "/state holds '" + v + "', not a xenbus state");
        }
    }

    /** In pv:devices' words, with xenbus.h's number. */
    private static String named(XenbusState state) {
        return state.displayName() + " (" + state.code() + ")";
    }

    private Optional<String> readQuietly(String path) {
        try {
            return shell.read(path);
        } catch (DemoFailure e) {
            return Optional.empty();
        }
    }

    private static String names(List<DemoDevice> devices) {
        return String.join(" and ", devices.stream().map(DemoDevice::name).toList());
    }

    /** Destroys the guest and stops the runtime when a step failed or the demo was interrupted. */
    private synchronized void cleanUp() {
        if (shell != null && domain != null) {
            try {
                shell.run("xl:destroy " + domain);
            } catch (DemoFailure e) {
                System.err.println("backplane demo: cleaning up: " + e.getMessage());
            }
            domain = null;
        }
        if (shell != null) {
            try {
                shell.close();
            } catch (IOException ignored) {
                // the runtime is going anyway
            }
            shell = null;
        }
        if (runtime != null) {
            runtime.close();
        }
    }

    /** The source tree the runtime jar was built in: runtime/target/backplane-runtime.jar -> repo. */
    private static Path repository() {
        try {
            Path jar = Path.of(Demo.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path target = jar.getParent();
            return target != null && target.getParent() != null && target.getParent().getParent() != null
                    ? target.getParent().getParent() : Path.of(".").toAbsolutePath();
        } catch (URISyntaxException | SecurityException | NullPointerException e) {
            return Path.of(".").toAbsolutePath();
        }
    }

    /** A feature to change on every device of a type, and the frontend key that shows it was taken. */
    record LiveChange(String type, String feature, String value, String frontendKey) {
    }
}
