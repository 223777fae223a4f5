package io.backplane.blkback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.backplane.api.backend.DeviceException;
import io.backplane.api.backend.StrategySwap;
import io.backplane.nativeio.NativeIo;
import io.backplane.ring.persistent.PersistentLimits;
import io.backplane.ring.persistent.PersistentStrategy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hot swap of a live vbd's ring strategy under the traffic of a real blkfront guest process,
 * which verifies every sector it reads back: no request lost or failed, no reconnect, nothing
 * left mapped.
 */
class BlkHotSwapTest {
    static final int DEVID = 51712;
    static NativeIo io;

    @TempDir
    Path dir;
    SimWorld world;
    Path image;
    int domid;

    @BeforeAll
    static void loadLibc() {
        io = new NativeIo();
    }

    @AfterAll
    static void dropLibc() {
        io = null;
    }

    @BeforeEach
    void start() throws Exception {
        world = new SimWorld(dir, io);
        world.allStrategies = true;
        image = dir.resolve("disk.img");
        byte[] garbage = new byte[16 << 20];
        Arrays.fill(garbage, (byte) 0xEE);
        Files.write(image, garbage);
        domid = world.createDomain("guest1", 8192);
    }

    @AfterEach
    void stop() {
        world.close();
    }

    String fe(String key) {
        return world.xs.tryRead("/local/domain/" + domid + "/device/vbd/" + DEVID + "/" + key).orElse(null);
    }

    long stat(String key) {
        String v = fe("stats/" + key);
        return v == null ? 0 : Long.parseLong(v);
    }

    VbdHarness attach(boolean persistent) {
        Map<String, String> offer = new java.util.LinkedHashMap<>(BlkEndToEndTest.offer(2, 2));
        offer.put("feature-persistent", persistent ? "1" : "0");
        return world.attachVbd(domid, DEVID, Map.of("params", image.toString(), "mode", "w"), offer);
    }

    void awaitSent(GuestProcess guest, long sent) throws InterruptedException {
        long end = System.currentTimeMillis() + 30_000;
        while (stat("sent") < sent) {
            assertThat(System.currentTimeMillis()).as("guest progress\n" + guest.output()).isLessThan(end);
            Thread.sleep(5);
        }
    }

    @Test
    void aVbdSwappedManyTimesMidTrafficLosesNoRequestAndNoByte() throws Exception {
        // Far more requests than the swaps take: with requests in flight on two I/O threads per
        // ring, 30 000 were once all answered while the eight swaps were still being made.
        final long ops = 60_000;
        List<StrategySwap> swaps = new ArrayList<>();
        try (VbdHarness vbd = attach(true);
             GuestProcess guest = new GuestProcess(dir, domid,
                     "ring-order=2,queues=2,indirect=32,ops=" + ops + ",depth=16,min-sectors=1,max-sectors=64,"
                             + "read=45,write=45,flush=5,discard=5,region=4096,fill=1,verify=1,seed=11")) {
            vbd.awaitFrontendState("4", 20_000);
            assertThat(vbd.status()).containsEntry("strategy", "persistent");
            String[] order = {"grant-copy", "persistent", "map-batched-unmap", null, "grant-copy", "map-batched-unmap",
                    "persistent", null};
            long step = 2000;
            for (int i = 0; i < order.length; i++) {
                awaitSent(guest, step * (i + 1));
                List<StrategySwap> done = world.bus().swap(vbd.id, order[i]);
                assertThat(done).hasSize(2);
                String expected = order[i] == null ? "persistent" : order[i];
                assertThat(done).allSatisfy(s -> assertThat(s.to()).isEqualTo(expected));
                assertThat(vbd.status()).containsEntry("queue-0/strategy", expected).containsEntry("queue-1/strategy", expected);
                swaps.addAll(done);
            }
            long sentAtLastSwap = stat("sent");
            long end = System.currentTimeMillis() + 60_000;
            while (!"done".equals(fe("stats/phase"))) {
                assertThat(System.currentTimeMillis()).as("workload done\n" + guest.output()).isLessThan(end);
                Thread.sleep(20);
            }
            assertThat(sentAtLastSwap).as("the swaps happened mid-traffic").isLessThan(ops);
            assertThat(stat("sent")).isEqualTo(stat("answered")).isGreaterThanOrEqualTo(ops);
            assertThat(stat("failed")).isZero();
            assertThat(stat("eopnotsupp")).isZero();
            assertThat(stat("mismatches")).isZero();
            assertThat(stat("verified-sectors")).isPositive();
            assertThat(stat("reconnects")).as("the frontend saw no reconnect").isZero();
            assertThat(vbd.fatals).isEmpty();
            assertThat(vbd.logs).filteredOn(l -> l.contains("frontend connected")).hasSize(1);

            // Back on grant-copy, only the ring pages stay pinned: 2 queues x 4 pages; the
            // persistent grants and deferred unmaps of the other strategies are gone.
            world.bus().swap(vbd.id, "grant-copy");
            assertThat(world.sim.pinnedGrants(domid)).isEqualTo(8);
            long[] pauses = swaps.stream().mapToLong(StrategySwap::pauseMicros).sorted().toArray();
            System.err.printf("blk hot swap: %d ring swaps under traffic, pause per ring median %d us, max %d us%n",
                    pauses.length, pauses[pauses.length / 2], pauses[pauses.length - 1]);
        }
        assertThat(world.sim.pinnedGrants(domid)).isZero();
        assertThat(world.sim.dom0PortsInUse()).isZero();
        world.sim.destroy(domid);
        long mapped = Files.readAllLines(Path.of("/proc/self/maps")).stream()
                .filter(l -> l.contains(dir.resolve("domains").toString())).count();
        assertThat(mapped).as("mappings of guest memory left in dom0").isZero();
    }

    @Test
    void aFitterStrategyDeployedLiveIsLoggedAndSwappedToOnlyWithAutoSwap() throws Exception {
        world.allStrategies = false;
        try (VbdHarness vbd = attach(true);
             GuestProcess guest = new GuestProcess(dir, domid,
                     "ring-order=1,queues=1,ops=-1,depth=8,min-sectors=1,max-sectors=32,read=50,write=50,region=1024,fill=1,verify=1")) {
            vbd.awaitFrontendState("4", 20_000);
            assertThat(vbd.status()).containsEntry("strategy", "grant-copy");
            // The bundle of persistent is deployed: the registry tells the core (XenbusBackend subscribes).
            world.strategies.addStrategy(new PersistentStrategy(world.sim,
                    PersistentLimits.DEFAULTS), Map.of("backplane.ring.strategy", "persistent",
                    "service.id", 9L));
            world.bus().strategyAdded("persistent", world.strategies, false);
            assertThat(vbd.logs).anyMatch(l -> l.contains("ring strategy persistent was deployed and is fitter than grant-copy"));
            assertThat(vbd.status()).containsEntry("strategy", "grant-copy");

            world.bus().strategyAdded("persistent", world.strategies, true);
            long end = System.currentTimeMillis() + 10_000;
            while (!"persistent".equals(vbd.status().get("strategy"))) {
                assertThat(System.currentTimeMillis()).as("autoSwap; logs " + vbd.logs).isLessThan(end);
                Thread.sleep(10);
            }
            long answered = stat("answered");
            awaitSent(guest, answered + 500);
            assertThat(stat("failed")).isZero();
            assertThat(stat("mismatches")).isZero();
            assertThat(stat("reconnects")).isZero();
        }
    }

    @Test
    void aStrategyThatDoesNotFitTheNegotiatedFeaturesIsRefusedAndNothingChanges() throws Exception {
        try (VbdHarness vbd = attach(false);
             GuestProcess guest = new GuestProcess(dir, domid, "ring-order=1,queues=1,ops=-1,fill=0,depth=4,region=1024")) {
            vbd.awaitFrontendState("4", 20_000);
            assertThat(vbd.status()).containsEntry("strategy", "grant-copy");
            assertThatThrownBy(() -> world.bus().swap(vbd.id, "persistent"))
                    .isInstanceOf(DeviceException.class)
                    .hasMessage("ring strategy persistent does not fit the blkif ring of queue 0 (feature-max-indirect-segments=256"
                            + " feature-persistent=0); fitting: grant-copy, map-batched-unmap");
            assertThatThrownBy(() -> world.bus().swap(vbd.id, "no-such"))
                    .isInstanceOf(DeviceException.class).hasMessageStartingWith("ring strategy no-such does not fit");
            assertThat(vbd.status()).containsEntry("strategy", "grant-copy");
            long before = stat("answered");
            awaitSent(guest, before + 200);
            assertThat(stat("failed")).isZero();
        }
    }
}
