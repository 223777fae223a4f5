package io.backplane.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.backplane.control.client.ControlClient;
import io.backplane.guest.blkfront.FlushRecord;

import static io.backplane.runtime.LaunchedRuntime.REPO;
import static io.backplane.runtime.LaunchedRuntime.await;
import static io.backplane.runtime.LaunchedRuntime.run;

/**
 * kill -9 of the runtime while a guest's blkfront writes and flushes through blkback: the guest
 * records (fsynced, outside the runtime) what each completed flush made durable, and the image
 * must hold all of it. Then a new runtime starts on the same state directory and says what it
 * cleaned up.
 */
class RuntimeCrashIT {

    private static final String GUEST_JAR = "bundles/guest/target/backplane-guest-0.1.0-SNAPSHOT-runnable.jar";
    private static final Pattern CREATED = Pattern.compile("Created domain (\\d+) .*; guest process (\\d+)");
    /** Endless random writes, reads and flushes (no discards: a flushed sector must never read as zeros). */
    private static final String WORKLOAD = "ops=-1,depth=16,max-sectors=32,region=4096,read=30,write=60,flush=10,"
            + "discard=0,verify=0,seed=11";

    @TempDir
    Path stateDir;
    @TempDir
    Path work;

    private final List<Process> processes = new CopyOnWriteArrayList<>();

    private Process start(List<String> console) throws IOException, InterruptedException {
        Process p = LaunchedRuntime.start(stateDir, work.resolve("features"), work.resolve("deploy"), console);
        processes.add(p);
        return p;
    }

    @AfterEach
    void stopAll() throws InterruptedException {
        for (Process p : processes) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void killNineMidTrafficLosesNoFlushedWriteAndTheNextStartCleansUp() throws Exception {
        assertThat(REPO.resolve(GUEST_JAR)).as("the guest program is built").isRegularFile();
        Path records = Files.createDirectories(work.resolve("guest"));
        Path image = work.resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(16 << 20);
        }
        Path cfg = work.resolve("crashy.cfg");
        Files.writeString(cfg, "name = \"crashy\"\nmemory = 64\ndisk = [ \"format=raw,vdev=xvda,access=rw,target=" + image + "\" ]\n");

        String guestCommand = "{java} -jar " + GUEST_JAR + " --state-dir {state} --domid {domid} --flush-record " + records
                + " --vbd " + WORKLOAD;
        // The guest command as a feature's configuration, applied before any component starts (as
        // MetricsIT does), so the first guest runs it; FeatureCommandsIT covers a .cfg in deploy/.
        LaunchedRuntime.featuresWith(work, """
                {
                  "feature-resource-version": "1.0",
                  "id": "io.backplane:backplane-crash-test:osgifeature:0.1.0-SNAPSHOT",
                  "bundles": [],
                  "configurations": { "io.backplane.toolstack": { "guestCommand": "%s" } }
                }
                """.formatted(guestCommand));
        List<String> console = new CopyOnWriteArrayList<>();
        Process runtime = start(console);
        Path socket = stateDir.resolve("control.sock");
        ProcessHandle guest;
        try (ControlClient client = ControlClient.connect(socket)) {
            String created = run(client, "xl:create " + cfg);
            Matcher m = CREATED.matcher(created);
            assertThat(m.find()).as(created).isTrue();
            guest = ProcessHandle.of(Long.parseLong(m.group(2))).orElseThrow();
            assertThat(guest.info().arguments().map(List::of).orElse(List.of())).as("the feature's guest command; console:\n"
                    + String.join("\n", console)).contains("--flush-record");
        }
        Path record = records.resolve("vbd-51712.flushed");
        await("the guest to record 30 flushes", 60, () -> flushes(record) >= 30);

        runtime.destroyForcibly(); // SIGKILL, mid-traffic
        assertThat(runtime.waitFor(20, TimeUnit.SECONDS)).isTrue();
        // Its hypervisor is gone with it: the guest process sees its event channel socket close and exits.
        assertThat(guest.onExit().orTimeout(20, TimeUnit.SECONDS).handle((h, t) -> !guest.isAlive()).join())
                .as("guest process exited").isTrue();

        FlushRecord.Check check = FlushRecord.check(record, image);
        assertThat(check.flushes()).isGreaterThanOrEqualTo(30);
        assertThat(check.durableSectors()).as("sectors the record names").isGreaterThan(1000);
        assertThat(check.lost()).as("flushed writes missing from the image").isEmpty();
        System.out.printf("RuntimeCrashIT: %d flushes recorded, %d sectors durable, all in the image%n",
                check.flushes(), check.durableSectors());

        List<String> again = new CopyOnWriteArrayList<>();
        start(again);
        assertThat(again).contains("Backplane did not stop cleanly last time with state dir " + stateDir + "; cleaning up")
                .contains("warning: removing socket " + socket + " left by the instance that did not stop");
        await("the sim's clean-up line", 20, () -> log().contains("removed 1 domain directory left in "
                + stateDir.resolve("domains") + " by an earlier run"));
        try (ControlClient client = ControlClient.connect(socket)) {
            assertThat(run(client, "xl:list")).doesNotContain("crashy");
            assertThat(run(client, "sim:domains")).contains("dom0 event channel ports in use: 0");
        }
    }

    private static long flushes(Path record) {
        try {
            return FlushRecord.flushes(record);
        } catch (IOException e) {
            return 0;
        }
    }

    private String log() {
        try {
            return Files.readString(stateDir.resolve("backplane.log"));
        } catch (IOException e) {
            return "";
        }
    }
}
