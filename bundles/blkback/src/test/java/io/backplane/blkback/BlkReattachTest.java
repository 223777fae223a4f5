package io.backplane.blkback;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.device.DeviceId;
import io.backplane.backend.BackendBus;
import io.backplane.nativeio.NativeIo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
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
    static final int RESTARTS = 4;
    static NativeIo io;

    @TempDir
    Path dir;
    BlkReattachFixture fx;
    final List<String> stateEvents = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void libc() {
        io = new NativeIo();
    }

    @AfterAll
    static void dropLibc() {
        io = null;
    }

    @BeforeEach
    void start() throws Exception {
        fx = new BlkReattachFixture(dir, io);
    }

    @AfterEach
    void stop() {
        fx.close();
    }

    @Test
    void aGuestKeepsItsRingsWhileTheBackendRestartsUnderIt() throws Exception {
        restartsUnder(BlkReattachFixture.PLAIN_OFFER, false, "grant-copy");
    }

    /**
     * The same on persistent grants, each request's page in two segments on two grants: after
     * each re-attach every grant is new to the adopter, which maps a request's two in one call
     * (SegmentIo.prepare), the grants the frontend keeps using stay mapped, and every byte is right.
     */
    @Test
    void aGuestOnPersistentGrantsKeepsItsRingsWhileTheBackendRestartsUnderIt() throws Exception {
        Map<String, String> offer = fx.persistentOffer();
        Map<String, String> status = restartsUnder(offer, true, "persistent");
        long maps = Long.parseLong(status.get("queue-0/persistent-maps"));
        long calls = Long.parseLong(status.get("queue-0/persistent-map-calls"));
        assertThat(maps).as("the last adopter's persistent grants: both of every request's grants").isGreaterThanOrEqualTo(2);
        assertThat(calls).as("map calls for %d grants new to the last adopter", maps).isLessThanOrEqualTo(maps / 2);
    }

    /** Restarts of the bus and updates of the driver under one guest; the adopted vbd's status at the end. */
    private Map<String, String> restartsUnder(Map<String, String> offer, boolean persistent, String strategy) throws Exception {
        BackendBus bus = fx.newBus(dir, offer);
        int domid = fx.domainWithVbd("reattach", offer);
        DeviceId id = new DeviceId(0, "vbd", domid, BlkReattachFixture.DEVID);
        BlkReattachFixture.Guest guest = fx.startGuest(domid, persistent);
        try {
            fx.awaitRoundsAbove(guest, 0);
            // Connected now; a watch fires once when set, then at every write of the key.
            fx.world.xs.watch(id.backendPath() + "/state", "states", (p, t) -> stateEvents.add(p));
            for (int restart = 1; restart <= RESTARTS; restart++) {
                long rounds = fx.rounds(guest);
                if (restart % 2 == 1) {
                    bus.close();               // keepDevices: answered, unmapped, left Connected
                } else {
                    bus.removeDriver(fx.driver);  // a bundle update: the driver goes, the bus stays
                }
                assertThat(fx.world.xs.read(id.backendPath() + "/state")).isEqualTo("4");
                assertThat(fx.world.xs.exists(id.backendPath() + "/backplane/owner")).as("a handed-over device has no owner").isFalse();
                if (restart % 2 == 1) {
                    bus = fx.newBus(dir, offer);       // a new bus, driver and registry: adopts from XenStore
                } else {
                    fx.driver = fx.world.blkback();  // the updated bundle's driver adopts on the same bus
                    bus.addDriver(fx.driver);
                }
                fx.awaitRoundsAbove(guest, rounds + 1);
                // The lifecycle logs an adoption after the rings already run again: the next
                // restart begins once this one's adoption is complete.
                fx.awaitLog("re-attached to the live rings", restart, guest);
            }
            System.out.println(fx.finish(guest));
            assertThat(fx.logged("re-attached to the live rings")).as("one adoption per restart: " + fx.logs).isEqualTo(RESTARTS);
            assertThat(stateEvents).as("writes of the backend's state key after the frontend connected").hasSize(1);
            assertThat(fx.world.xs.tryRead(id.backendPath() + "/backplane/connection/strategy")).contains(strategy);
            return bus.device(id).orElseThrow().status();
        } finally {
            guest.process().destroy();
            bus.close();
        }
    }

    /**
     * SIGTERM under a hot standby, against the sim: one bus serves the vbds of three guests (C
     * blkfronts with a ring's worth of requests in flight, two of them on persistent grants); a
     * standby bus on a state directory of its own leaves each to its live owner, rehearses its
     * adoption and holds each persistent ring's page and every grant the owner recorded mapped
     * beside the owner (the plain ring's strategy prepares nothing); then the serving bus hands
     * every device over at once ({@link BackendBus#handOverAll}, what the runtime's SIGTERM runs
     * before any bundle stops) and the standby adopts each the moment its owner key goes, with
     * no ring map and no grant map left to make: what it held serves. Nothing is served again (a
     * handover answers all it took); each frontend counts every request answered once and checks
     * every byte it reads back, and its backend never left Connected. Once the standby stops
     * too, dom0 holds no mapping of any guest's pages.
     */
    @Test
    void aStandbyAdoptsEveryDeviceTheServingBackendHandsOverAtOnce() throws Exception {
        Map<String, String> offer = fx.persistentOffer();
        BackendBus bus = fx.newBus(dir, offer);
        BackendBus standby = null;
        List<BlkReattachFixture.Guest> guests = new ArrayList<>();
        List<BlkReattachFixture.Guest> persistent = new ArrayList<>();
        try {
            for (String name : List.of("term-a", "term-b", "term-c")) {
                BlkReattachFixture.Guest g = fx.startGuest(fx.domainWithVbd(name, offer), !name.equals("term-c"));
                guests.add(g);
                if (!name.equals("term-c")) {
                    persistent.add(g);
                }
            }
            for (BlkReattachFixture.Guest g : guests) {
                fx.awaitRoundsAbove(g, 0);         // a whole round: every slot's grants mapped by the owner
            }
            Path standbyDir = Files.createDirectories(dir.resolve("standby"));
            standby = fx.newBus(standbyDir, offer);
            fx.awaitLog("rehearsed its adoption in ", guests.size(), guests.get(0));
            fx.awaitLog("ready for adoption", guests.size(), guests.get(0));
            assertThat(fx.logged("not served here: Connected and served by the live process")).isEqualTo(guests.size());
            for (BlkReattachFixture.Guest g : persistent) {
                String recorded = bus.device(g.vbd()).orElseThrow().status().get("queue-0/persistent-grants");
                assertThat(fx.held(g, 1)).as("before the owner goes, the standby holds the ring's page and every grant"
                        + " the owner holds").containsExactly(1, Integer.parseInt(recorded));
            }
            assertThat(fx.held(guests.get(2), 1)).as("grant copy prepares nothing").containsExactly(0, 0);
            Map<BlkReattachFixture.Guest, Long> rounds = new HashMap<>();
            guests.forEach(g -> rounds.put(g, fx.rounds(g)));

            bus.handOverAll("Backplane is stopping");
            assertThat(fx.logged("handed over (Backplane is stopping)")).isEqualTo(guests.size());
            for (BlkReattachFixture.Guest g : guests) {
                fx.awaitRoundsAbove(g, rounds.get(g) + 1);
            }
            fx.awaitLog("re-attached to the live rings (it was handed over)", guests.size(), guests.get(0));
            for (BlkReattachFixture.Guest g : guests) {
                assertThat(fx.logs).anyMatch(l -> l.startsWith(g.vbd() + ": re-attached to the live rings (it was handed over)"));
                assertThat(fx.world.xs.read(g.vbd().backendPath() + "/backplane/files")).as("the standby's files")
                        .isEqualTo(standbyDir.resolve("devices/vbd/" + g.domid() + "/" + BlkReattachFixture.DEVID).toString());
            }
            for (BlkReattachFixture.Guest g : persistent) {
                Map<String, String> status = standby.device(g.vbd()).orElseThrow().status();
                assertThat(status).as("what the adopter found mapped").containsEntry("queue-0/prepared-ring-pages", "1")
                        .containsEntry("queue-0/persistent-prepared", Integer.toString(fx.held(g, 1)[1]))
                        .containsEntry("queue-0/persistent-claim-maps", "0")
                        .containsEntry("queue-0/persistent-map-calls", "0");
                // logged once the ring is next idle, after the answer itself
                fx.awaitLog(g.vbd() + ": queue 0: first answer after the re-attach", g);
                assertThat(fx.logs).anyMatch(l -> l.startsWith(g.vbd() + ": queue 0: first answer after the re-attach")
                        && l.contains("0 persistent grants mapped so far, in 0 calls, beside " + fx.held(g, 1)[1]
                        + " mapped before the owner went and 0 at the claim"));
            }
            assertThat(fx.logs).as("a handover leaves nothing to serve again").noneMatch(l -> l.contains("served again"));
            for (BlkReattachFixture.Guest g : guests) {
                fx.finish(g);
            }
            bus.close();
            standby.close();
            for (BlkReattachFixture.Guest g : guests) {
                fx.awaitDom0Mappings(g.domid(), 0, "both backends gone");
            }
        } finally {
            guests.forEach(g -> g.process().destroy());
            bus.close();
            if (standby != null) {
                standby.close();
            }
        }
    }

    /**
     * What a standby holds for a device it leaves to its owner is let go of on every path but
     * its own adoption: the owner's record written anew (a hot swap here; a reconnect does the
     * same), another standby adopting the device first, the standby stopping. The guest on
     * persistent grants runs throughout; dom0's mappings of its pages are counted in the sim. The
     * standby that adopts maps at its claim what the owner mapped after it prepared, and its
     * requests map nothing.
     */
    @Test
    void aStandbyLetsGoOfWhatItHeldWhenTheRecordChangesAnotherAdoptsOrItStops() throws Exception {
        Map<String, String> offer = fx.persistentOffer();
        BackendBus bus = fx.newBus(dir, offer);
        int domid = fx.domainWithVbd("letgo", offer);
        DeviceId id = new DeviceId(0, "vbd", domid, BlkReattachFixture.DEVID);
        BlkReattachFixture.Guest guest = fx.startGuest(domid, true);
        List<BackendBus> standbys = new ArrayList<>();
        try {
            fx.awaitRoundsAbove(guest, 0);
            int owner = fx.dom0Mappings(domid);
            standbys.add(fx.newBus(Files.createDirectories(dir.resolve("standby-a")), offer));
            fx.awaitLog("ready for adoption", 1, guest);
            int[] held = fx.held(guest, 1);
            assertThat(held[1]).isPositive();
            assertThat(fx.dom0Mappings(domid)).as("the owner's, and the standby's ring and one map of its grants")
                    .isEqualTo(owner + 2);

            // The owner's record written anew: the standby reads it again and prepares on it.
            bus.swapStrategy(id, "grant-copy", java.time.Duration.ofSeconds(10));
            fx.awaitLog("ready for adoption", 2, guest);
            assertThat(fx.held(guest, 2)).as("grant copy prepares nothing").containsExactly(0, 0);
            fx.awaitDom0Mappings(domid, 1, "the owner's ring alone: the standby let go of the ring and grants it held");
            long rounds = fx.rounds(guest);
            bus.swapStrategy(id, "persistent", java.time.Duration.ofSeconds(10));
            fx.awaitRoundsAbove(guest, rounds + 1);   // every grant the owner's new channel uses mapped (and maybe held)

            // A second standby: one of them adopts at the SIGTERM, the other leaves it to the winner.
            standbys.add(fx.newBus(Files.createDirectories(dir.resolve("standby-b")), offer));
            fx.awaitLog("ready for adoption", 4, guest);
            rounds = fx.rounds(guest);
            bus.handOverAll("Backplane is stopping");
            fx.awaitLog("re-attached to the live rings (it was handed over)", guest);
            fx.awaitRoundsAbove(guest, rounds + 1);
            // The winner's files are the device's now (the loser probes the device too, at each
            // change under its directory, before it finds the claim taken).
            String files = fx.world.xs.read(id.backendPath() + "/backplane/files");
            BackendBus winner = standbys.get(files.startsWith(dir.resolve("standby-b").toString()) ? 1 : 0);
            BackendBus loser = standbys.get(1 - standbys.indexOf(winner));
            assertThat(winner.device(id).orElseThrow().status()).as("the winner served with what it held, the grants the"
                    + " owner mapped since it prepared mapped at the claim").containsEntry("queue-0/prepared-ring-pages", "1")
                    .containsEntry("queue-0/persistent-map-calls", "0");
            loser.close();                           // it still holds its ring and grants, left to the winner
            fx.finish(guest);
            winner.close();
            bus.close();
            fx.awaitDom0Mappings(domid, 0, "every backend gone: nothing any standby held is left");
        } finally {
            guest.process().destroy();
            bus.close();
            standbys.forEach(BackendBus::close);
        }
    }

    /**
     * The crash path's decision: a record whose owner is a live process (another instance) is
     * left alone, however long; once its owner is a dead process (kill -9 leaves it so) the
     * change under the backend directory has the bus look again, and it adopts.
     */
    @Test
    void aDeviceOfALiveProcessIsLeftOneOfADeadProcessIsAdopted() throws Exception {
        Map<String, String> offer = Map.of("max-ring-page-order", "0", "multi-queue-max-queues", "1");
        BackendBus bus = fx.newBus(dir, offer);
        int domid = fx.domainWithVbd("crashed", offer);
        DeviceId id = new DeviceId(0, "vbd", domid, BlkReattachFixture.DEVID);
        String owner = id.backendPath() + "/backplane/owner";
        BlkReattachFixture.Guest guest = fx.startGuest(domid);
        try {
            fx.awaitRoundsAbove(guest, 0);
            bus.close();
            ProcessHandle self = ProcessHandle.current();
            fx.world.xs.write(owner, self.pid() + "@" + self.info().startInstant().orElseThrow().toEpochMilli());
            bus = fx.newBus(dir, offer);
            fx.awaitLog("not served here", guest);
            long stalled = fx.rounds(guest);
            Thread.sleep(300);
            assertThat(fx.rounds(guest)).as("nobody serves the guest while its owner lives").isLessThanOrEqualTo(stalled + 1);
            fx.world.xs.write(owner, "2147483646@0");     // what a killed process leaves
            fx.awaitRoundsAbove(guest, stalled + 2);
            assertThat(fx.logs).anyMatch(l -> l.contains("re-attached to the live rings (its backend process 2147483646@0 is gone)"));
            fx.finish(guest);
        } finally {
            guest.process().destroy();
            bus.close();
        }
    }
}
