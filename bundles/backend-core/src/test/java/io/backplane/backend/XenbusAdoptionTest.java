package io.backplane.backend;

import io.backplane.api.device.DeviceId;
import io.backplane.api.log.OperatorLog;
import io.backplane.api.xenstore.XsWatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Restart and re-attach in the core against the real XenStore daemon and policy: the record a
 * connect leaves under the backend directory, a handover that writes no state, the successor
 * that adopts without renegotiating, and the refusals.
 */
class XenbusAdoptionTest {
    private XenbusFixture fx;
    private BackendBus successor;
    private final TestDriver driver = new TestDriver();
    private final TestDriver next = new TestDriver();
    private final List<String> log = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() throws Exception {
        if (successor != null) {
            successor.close();
        }
        if (fx != null) {
            fx.close();
        }
    }

    private DeviceId connected(boolean keepDevices) throws Exception {
        fx = new XenbusFixture(true, keepDevices);
        fx.bus.addDriver(driver);
        DeviceId id = fx.createVif(3, 0, Map.of("queues", "2"));
        fx.awaitBackendState(id, 2);
        fx.frontendConnects(id, 2);
        fx.awaitBackendState(id, 4);
        return id;
    }

    private void startSuccessor() {
        successor = new BackendBus(fx.backendXs, fx.policy.policy(), OperatorLog.lines(l -> {
            log.add(l);
            System.err.println("successor: " + l);
        }), new BackendBus.Options(0, true, true, fx.stateDir));
        successor.addDriver(next);
    }

    @Test
    void aConnectRecordsWhatASuccessorNeedsAndADisconnectRemovesIt() throws Exception {
        DeviceId id = connected(false);
        String rec = id.backendPath() + "/backplane";
        assertThat(fx.xs().read(rec + "/offer/multi-queue-max-queues")).isEqualTo("2");
        assertThat(fx.xs().read(rec + "/connection/queues")).isEqualTo("2");
        assertThat(fx.xs().read(rec + "/owner")).isEqualTo(DeviceRecord.self());
        assertThat(fx.xs().getPerms(rec).get(0).domid()).as("dom0's alone").isZero();

        fx.frontendState(id, 5);
        fx.awaitBackendState(id, 5);
        assertThat(fx.xs().exists(rec)).as("nothing to adopt once disconnected").isFalse();
    }

    /** A device's files (request mirrors) outlive a handover for the successor and go with a disconnect. */
    @Test
    void aDevicesFilesAreKeptForItsSuccessorAndRemovedWithItsRecord() throws Exception {
        DeviceId id = connected(true);
        java.nio.file.Path mirror = fx.stateDir.resolve("devices/vif/3/0/queue-0.requests");
        assertThat(mirror).hasContent(id.toString());
        fx.bus.close();
        assertThat(mirror).as("kept for the successor").exists();
        startSuccessor();
        XenbusFixture.await("the adoption", () -> next.callsOf(id).contains("adopt"), log::toString);
        assertThat(mirror).exists();
        fx.frontendState(id, 5);
        XenbusFixture.await("the disconnect", () -> next.callsOf(id).contains("disconnect"), log::toString);
        XenbusFixture.await("the files removed", () -> !java.nio.file.Files.exists(mirror.getParent()), log::toString);
    }

    @Test
    void aHandedOverDeviceIsAdoptedWithoutAStateWriteOrANegotiation() throws Exception {
        DeviceId id = connected(true);
        List<String> stateWrites = new CopyOnWriteArrayList<>();
        try (XsWatch w = fx.xs().watch(id.backendPath() + "/state", "t", (p, t) -> stateWrites.add(p))) {
            XenbusFixture.await("the watch's first event", () -> stateWrites.size() == 1, stateWrites::toString);
            fx.bus.close();
            assertThat(driver.callsOf(id)).containsExactly("probe", "connect", "disconnect", "remove");
            assertThat(fx.xs().exists(id.backendPath() + "/backplane/owner")).isFalse();

            startSuccessor();
            XenbusFixture.await("the adoption", () -> next.callsOf(id).contains("adopt"), log::toString);
            XenbusFixture.await("the new owner", () -> fx.xs().tryRead(id.backendPath() + "/backplane/owner")
                    .filter(DeviceRecord.self()::equals).isPresent(), log::toString);
            assertThat(next.callsOf(id)).containsExactly("probe", "adopt");
            assertThat(next.devices.get(id).ctx.negotiation().offer()).containsEntry("multi-queue-max-queues", "2");
            assertThat(successor.device(id).orElseThrow().status()).containsEntry("queues", "2");
            // The lifecycle logs the adoption after it has recorded the new owner.
            XenbusFixture.await("the adoption's log line", () -> log.stream().anyMatch(
                    l -> l.startsWith("3/vif/0: re-attached to the live rings (it was handed over) in ")
                            && l.endsWith(" ms), 2 queues, strategy grant-copy, ring order 0")), log::toString);
            assertThat(stateWrites).as("no write of the backend's state key").hasSize(1);
            assertThat(fx.backendState(id)).isEqualTo("4");
        }
        // Adopted devices live on as any other: the frontend closing still closes them.
        fx.frontendState(id, 5);
        fx.awaitBackendState(id, 5);
        assertThat(next.callsOf(id)).containsExactly("probe", "adopt", "disconnect");
    }

    /**
     * SIGTERM's hand-over of every device: once each device's owner is released, and not before,
     * the bus lowers its process's threads to the lowest priority, once, and says so; a hand-over
     * that is not the process's end (a driver's update, the bus closed with keepDevices) does not.
     */
    @Test
    void handingEveryDeviceOverLowersThisProcessOnceEveryOwnerIsReleased() throws Exception {
        DeviceId id = connected(true);
        DeviceId other = fx.createVif(3, 1, Map.of("queues", "1"));
        fx.awaitBackendState(other, 2);
        fx.frontendConnects(other, 1);
        fx.awaitBackendState(other, 4);
        List<String> lowered = new CopyOnWriteArrayList<>();
        fx.bus.niceAllThreads(nice -> {
            lowered.add("nice " + nice + ", owners left " + Stream.of(id, other)
                    .filter(d -> fx.xs().exists(d.backendPath() + "/backplane/owner")).count());
            return 42;
        });

        fx.bus.handOverAll("Backplane is stopping");

        assertThat(lowered).containsExactly("nice 19, owners left 0");
        assertThat(fx.log).anyMatch(l -> l.matches("backend core: all 2 devices let go; this instance's 42 threads now run at nice 19"
                + " \\(set in \\d+ ms\\), leaving the CPUs to the successor"));
        fx.bus.close();
        assertThat(lowered).as("once").hasSize(1);
    }

    @Test
    void aDriversHandOverLeavesThePriorityAlone() throws Exception {
        DeviceId id = connected(true);
        List<Integer> lowered = new CopyOnWriteArrayList<>();
        fx.bus.niceAllThreads(nice -> {
            lowered.add(nice);
            return 42;
        });
        fx.bus.close();
        assertThat(fx.xs().exists(id.backendPath() + "/backplane/owner")).as("handed over").isFalse();
        assertThat(lowered).isEmpty();
    }

    /**
     * Never two owners: a claim takes the record only from an owner that let it go or is dead, and
     * only the one the adopter decided on; one that lost the race (another adopter wrote itself
     * first) is refused. The record names the owner's files directory, and the claim points it at
     * the claimer's and says where the files were.
     */
    @Test
    void aClaimTakesTheRecordOnlyFromTheOwnerItDecidedOn() throws Exception {
        DeviceId id = connected(true);
        String owner = id.backendPath() + "/backplane/owner";
        String files = id.backendPath() + "/backplane/files";
        String frontend = id.frontendPath();
        assertThat(fx.xs().read(files)).isEqualTo(DeviceRecord.files(fx.stateDir, id).toString());
        fx.bus.close();                            // handed over: no owner
        DeviceRecord.Recorded handedOver = DeviceRecord.read(fx.xs(), id).orElseThrow();
        assertThat(handedOver.owner()).isEmpty();
        java.nio.file.Path mine = fx.stateDir.resolve("standby");

        Process live = new ProcessBuilder("sleep", "60").start();
        try {
            String liveOwner = live.pid() + "@" + live.toHandle().info().startInstant().orElseThrow().toEpochMilli();
            fx.xs().write(owner, liveOwner);       // another adopter claimed it meanwhile, and serves it
            DeviceRecord.Claimed refused = DeviceRecord.claim(fx.xs(), id, frontend, handedOver, mine);
            assertThat(refused.claim()).isEqualTo(DeviceRecord.Claim.OWNED);
            assertThat(refused.owner()).contains(liveOwner);
            assertThat(fx.xs().read(owner)).isEqualTo(liveOwner);
        } finally {
            live.destroyForcibly();
        }
        fx.xs().write(owner, "2147483646@0");      // ... and died: not the owner this adopter decided on
        DeviceRecord.Claimed other = DeviceRecord.claim(fx.xs(), id, frontend, handedOver, mine);
        assertThat(other.claim()).isEqualTo(DeviceRecord.Claim.CHANGED);
        assertThat(other.why()).isEqualTo("its owner is 2147483646@0 now");
        assertThat(fx.xs().read(owner)).isEqualTo("2147483646@0");
        assertThat(fx.xs().read(files)).as("an aborted claim writes nothing").isEqualTo(DeviceRecord.files(fx.stateDir, id).toString());

        DeviceRecord.Recorded killed = DeviceRecord.read(fx.xs(), id).orElseThrow();
        DeviceRecord.Claimed claimed = DeviceRecord.claim(fx.xs(), id, frontend, killed, mine);
        assertThat(claimed.claim()).isEqualTo(DeviceRecord.Claim.CLAIMED);
        assertThat(claimed.owner()).contains("2147483646@0");
        assertThat(claimed.files()).contains(DeviceRecord.files(fx.stateDir, id));
        assertThat(fx.xs().read(owner)).isEqualTo(DeviceRecord.self());
        assertThat(fx.xs().read(files)).isEqualTo(DeviceRecord.files(mine, id).toString());
        assertThat(DeviceRecord.claim(fx.xs(), id, frontend, killed, mine).claim()).as("taken already")
                .isEqualTo(DeviceRecord.Claim.OWNED);
    }

    /**
     * The claim carries the checks an adoption rests on, read in its own transaction: a device
     * whose frontend left Connected, or whose record was written again (a reconnect, a swap) since
     * the adopter read it, is not claimed on what the adopter knew, and nothing is written.
     */
    @Test
    void aClaimRefusesADeviceThatChangedSinceItWasRead() throws Exception {
        DeviceId id = connected(true);
        fx.bus.close();
        String owner = id.backendPath() + "/backplane/owner";
        java.nio.file.Path mine = fx.stateDir.resolve("standby");
        DeviceRecord.Recorded record = DeviceRecord.read(fx.xs(), id).orElseThrow();
        assertThat(record.generation()).isPresent();

        DeviceRecord.write(fx.xs(), id, record.offer(), Map.of("queues", "1"), fx.stateDir);
        fx.xs().rm(owner);
        DeviceRecord.Claimed rewritten = DeviceRecord.claim(fx.xs(), id, id.frontendPath(), record, mine);
        assertThat(rewritten.claim()).isEqualTo(DeviceRecord.Claim.CHANGED);
        assertThat(rewritten.why()).isEqualTo("its record was written again");
        assertThat(fx.xs().exists(owner)).isFalse();

        DeviceRecord.Recorded now = DeviceRecord.read(fx.xs(), id).orElseThrow();
        assertThat(now.connection()).containsEntry("queues", "1");
        fx.frontendState(id, 5);
        DeviceRecord.Claimed closing = DeviceRecord.claim(fx.xs(), id, id.frontendPath(), now, mine);
        assertThat(closing.claim()).isEqualTo(DeviceRecord.Claim.CHANGED);
        assertThat(closing.why()).isEqualTo("backend state 4, frontend state 5");
        assertThat(fx.xs().exists(owner)).isFalse();
        fx.frontendState(id, 4);
        assertThat(DeviceRecord.claim(fx.xs(), id, id.frontendPath(), now, mine).claim()).isEqualTo(DeviceRecord.Claim.CLAIMED);
    }

    /**
     * An owner killed with SIGKILL whose parent has not reaped it yet (a zombie: ProcessHandle
     * still says alive) serves nothing: it counts as dead, so a standby adopts at once.
     */
    @Test
    void aZombieOwnerIsADeadOne() throws Exception {
        // sh starts the owner, then becomes a sleep that never reaps it.
        Process parent = new ProcessBuilder("sh", "-c", "sleep 60 & echo $!; exec sleep 60").start();
        try {
            long pid = Long.parseLong(new java.io.BufferedReader(new java.io.InputStreamReader(parent.getInputStream())).readLine().trim());
            ProcessHandle owner = ProcessHandle.of(pid).orElseThrow();
            String recorded = pid + "@" + owner.info().startInstant().orElseThrow().toEpochMilli();
            assertThat(DeviceRecord.process(recorded)).as("running").isPresent();
            new ProcessBuilder("kill", "-KILL", Long.toString(pid)).start().waitFor();
            long end = System.currentTimeMillis() + 10_000;
            while (!java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pid + "/stat")).contains(") Z ")) {
                assertThat(System.currentTimeMillis()).as("the owner became a zombie").isLessThan(end);
                Thread.sleep(5);
            }
            assertThat(owner.isAlive()).as("what ProcessHandle says of a zombie").isTrue();
            assertThat(DeviceRecord.running(owner)).isFalse();
            assertThat(DeviceRecord.process(recorded)).as("a zombie owner is gone").isEmpty();
        } finally {
            parent.destroyForcibly();
        }
    }

    @Test
    void aFrontendWhoseKeysChangedIsRefusedWithTheReason() throws Exception {
        DeviceId id = connected(true);
        fx.bus.close();
        fx.xs().write(id.frontendPath() + "/multi-queue-num-queues", "1");
        startSuccessor();
        fx.awaitBackendState(id, 5);
        assertThat(fx.xs().read(id.backendPath() + "/error"))
                .isEqualTo("the frontend's keys say queues 1, but it connected with 2: not re-attaching");
        assertThat(fx.xs().exists(id.backendPath() + "/backplane")).isFalse();
    }

    @Test
    void connectedWithoutARecordIsProbedAfreshWithAWarning() throws Exception {
        fx = new XenbusFixture(true, true);
        DeviceId id = fx.createVif(3, 0, Map.of());
        fx.xs().write(id.backendPath() + "/state", "4");
        fx.frontendConnects(id, 1);
        fx.bus.addDriver(driver);
        XenbusFixture.await("the probe", () -> driver.callsOf(id).contains("connect"), fx.log::toString);
        assertThat(fx.log).anyMatch(l -> l.startsWith("3/vif/0: Connected on both ends but nothing recorded"));
    }
}
