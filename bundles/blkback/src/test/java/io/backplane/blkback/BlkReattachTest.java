package io.backplane.blkback;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.device.DeviceId;
import io.backplane.api.device.Negotiation;
import io.backplane.api.device.NegotiationPolicy;
import io.backplane.api.log.OperatorLog;
import io.backplane.backend.BackendBus;
import io.backplane.nativeio.NativeIo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Restart under a running guest, against the sim: a C blkfront (src/test/c/blkfront_reattach.c)
 * keeps its ring, grants and port while backend-core's bus with blkback is closed with
 * {@code keepDevices} (a graceful handover) and a new bus with a new blkback driver and strategy
 * registry adopts the vbd from XenStore, or blkback alone is replaced on the bus (a bundle
 * update), several times under a ring's worth of requests in flight. The frontend counts every request and response (each answered once, none lost) and
 * checks every byte it reads back; the backend state key never leaves Connected.
 *
 * <p>The whole runtime is not restarted: the sim's XenStore lives in the runtime's process, so
 * a guest cannot outlive it; the bus is the unit that restarts here, as it does in a bundle update.
 */
class BlkReattachTest {
    static final int DEVID = 51712;
    static final int PAGES = 96;
    static final int RESTARTS = 4;
    static NativeIo io;
    static Path binary;

    @TempDir
    Path dir;
    SimWorld world;
    Path image;
    final List<String> logs = new CopyOnWriteArrayList<>();
    final List<String> stateEvents = new CopyOnWriteArrayList<>();
    BlkbackDriver driver;

    @BeforeAll
    static void build() throws Exception {
        io = new NativeIo();
        binary = BlkCFrontendLayoutTest.compile("blkfront_reattach");
    }

    @AfterAll
    static void dropLibc() {
        io = null;
    }

    @BeforeEach
    void start() throws Exception {
        world = new SimWorld(dir, io);
        image = dir.resolve("disk.img");
        Files.write(image, new byte[4 << 20]);
    }

    @AfterEach
    void stop() {
        world.close();
    }

    @Test
    void aGuestKeepsItsRingsWhileTheBackendRestartsUnderIt() throws Exception {
        int domid = world.createDomain("reattach", 1024);
        DeviceId id = new DeviceId(0, "vbd", domid, DEVID);
        Map<String, String> offer = Map.of("max-ring-page-order", "0", "multi-queue-max-queues", "1",
                "feature-persistent", "0", "feature-max-indirect-segments", "0", "feature-flush-cache", "1");
        BackendBus bus = newBus(offer);
        world.createVbd(domid, DEVID, Map.of("params", image.toString(), "mode", "w"), offer);
        String roundsKey = "/local/domain/" + domid + "/data/reattach-rounds";

        Process guest = new ProcessBuilder(binary.toString(), dir.toString(), Integer.toString(domid),
                Integer.toString(DEVID), Integer.toString(PAGES)).redirectErrorStream(true).start();
        try {
            awaitRoundsAbove(roundsKey, 0, guest);
            // Connected now; a watch fires once when set, then at every write of the key.
            world.xs.watch(id.backendPath() + "/state", "states", (p, t) -> stateEvents.add(p));
            for (int restart = 1; restart <= RESTARTS; restart++) {
                long rounds = rounds(roundsKey);
                if (restart % 2 == 1) {
                    bus.close();               // keepDevices: answered, unmapped, left Connected
                } else {
                    bus.removeDriver(driver);  // a bundle update: the driver goes, the bus stays
                }
                assertThat(world.xs.read(id.backendPath() + "/state")).isEqualTo("4");
                assertThat(world.xs.exists(id.backendPath() + "/backplane/owner")).as("a handed-over device has no owner").isFalse();
                if (restart % 2 == 1) {
                    bus = newBus(offer);       // a new bus, driver and registry: adopts from XenStore
                } else {
                    driver = world.blkback();  // the updated bundle's driver adopts on the same bus
                    bus.addDriver(driver);
                }
                awaitRoundsAbove(roundsKey, rounds + 1, guest);
                awaitAdoptions(restart);   // the next restart begins once this one's adoption is complete
            }
            world.xs.write("/local/domain/" + domid + "/data/reattach-stop", "1");
            assertThat(guest.waitFor(60, TimeUnit.SECONDS)).as("C frontend finished").isTrue();
            String out = new String(guest.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(guest.exitValue()).as(out + "\nbackend: " + logs).isZero();
            assertThat(out).contains("every byte checked");
            System.out.println(out);
            assertThat(adoptions()).as("one adoption per restart: " + logs).isEqualTo(RESTARTS);
            assertThat(logs).noneMatch(l -> l.contains("fatal"));
            assertThat(stateEvents).as("writes of the backend's state key after the frontend connected").hasSize(1);
            assertThat(world.xs.read(id.backendPath() + "/state")).isEqualTo("4");
            assertThat(world.xs.tryRead(id.backendPath() + "/backplane/connection/strategy")).contains("grant-copy");
        } finally {
            guest.destroy();
            bus.close();
        }
    }

    /**
     * The crash path's decision: a record whose owner is a live process (another instance) is
     * left alone, however long; once its owner is a dead process (kill -9 leaves it so) the
     * change under the backend directory has the bus look again, and it adopts.
     */
    @Test
    void aDeviceOfALiveProcessIsLeftOneOfADeadProcessIsAdopted() throws Exception {
        int domid = world.createDomain("crashed", 1024);
        DeviceId id = new DeviceId(0, "vbd", domid, DEVID);
        Map<String, String> offer = Map.of("max-ring-page-order", "0", "multi-queue-max-queues", "1");
        BackendBus bus = newBus(offer);
        world.createVbd(domid, DEVID, Map.of("params", image.toString(), "mode", "w"), offer);
        String roundsKey = "/local/domain/" + domid + "/data/reattach-rounds";
        String owner = id.backendPath() + "/backplane/owner";
        Process guest = new ProcessBuilder(binary.toString(), dir.toString(), Integer.toString(domid),
                Integer.toString(DEVID), Integer.toString(PAGES)).redirectErrorStream(true).start();
        try {
            awaitRoundsAbove(roundsKey, 0, guest);
            bus.close();
            ProcessHandle self = ProcessHandle.current();
            world.xs.write(owner, self.pid() + "@" + self.info().startInstant().orElseThrow().toEpochMilli());
            bus = newBus(offer);
            long end = System.currentTimeMillis() + 10_000;
            while (logs.stream().noneMatch(l -> l.contains("not served here"))) {
                assertThat(System.currentTimeMillis()).as("left to its live owner: " + logs).isLessThan(end);
                Thread.sleep(5);
            }
            long stalled = rounds(roundsKey);
            Thread.sleep(300);
            assertThat(rounds(roundsKey)).as("nobody serves the guest while its owner lives").isLessThanOrEqualTo(stalled + 1);
            world.xs.write(owner, "2147483646@0");     // what a killed process leaves
            awaitRoundsAbove(roundsKey, stalled + 2, guest);
            assertThat(logs).anyMatch(l -> l.contains("re-attached to the live rings (its backend process 2147483646@0 is gone)"));
            world.xs.write("/local/domain/" + domid + "/data/reattach-stop", "1");
            assertThat(guest.waitFor(60, TimeUnit.SECONDS)).as("C frontend finished").isTrue();
            String out = new String(guest.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(guest.exitValue()).as(out + "\nbackend: " + logs).isZero();
            assertThat(world.xs.read(id.backendPath() + "/state")).isEqualTo("4");
        } finally {
            guest.destroy();
            bus.close();
        }
    }

    private BackendBus newBus(Map<String, String> offer) {
        NegotiationPolicy policy = new NegotiationPolicy() {
            @Override
            public Negotiation negotiate(DeviceId device) {
                return preview(device);
            }

            @Override
            public Negotiation preview(DeviceId device) {
                return new Negotiation(device, offer, List.of(), Set.of(), false);
            }
        };
        BackendBus bus = new BackendBus(world.xs, policy, OperatorLog.lines(l -> {
            System.err.println("backend: " + l);
            logs.add(l);
        }), new BackendBus.Options(0, true, true, dir));
        driver = world.blkback();
        bus.addDriver(driver);
        return bus;
    }

    private long rounds(String key) {
        return world.xs.tryRead(key).map(Long::parseLong).orElse(0L);
    }

    private long adoptions() {
        return logs.stream().filter(l -> l.contains("re-attached to the live rings")).count();
    }

    /** The lifecycle logs an adoption after the rings already run again, so the guest may be ahead of the line. */
    private void awaitAdoptions(int count) throws InterruptedException {
        for (long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10); adoptions() < count; ) {
            assertThat(System.nanoTime()).as("adoption " + count + " logged: " + logs).isLessThan(end);
            Thread.sleep(10);
        }
    }

    private void awaitRoundsAbove(String key, long rounds, Process guest) throws Exception {
        long end = System.currentTimeMillis() + 30_000;
        while (rounds(key) <= rounds) {
            if (!guest.isAlive() || System.currentTimeMillis() > end) {
                String out = guest.isAlive() ? "(still running)" : new String(guest.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                throw new AssertionError("the guest did not get past round " + rounds + ": " + out + "\nbackend: " + logs);
            }
            Thread.sleep(5);
        }
    }
}
