package io.backplane.blkback;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.nativeio.NativeIo;
import io.backplane.guest.blkfront.Blkfronts;
import io.backplane.ring.RingShape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ring layout features (split indexes, aligned slots, separate rings) between blkback and a
 * blkfront guest process: the frontend takes what is offered and it knows, composed with
 * multi-page and multi-queue rings; every sector written is read back and checked; a frontend
 * that knows none of them sees ring.h's ring and writes none of the keys; and a change of layout
 * under traffic goes through Closing with no request lost.
 */
class BlkRingLayoutTest {
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
        image = dir.resolve("disk.img");
        byte[] garbage = new byte[8 << 20];
        Arrays.fill(garbage, (byte) 0xEE);
        Files.write(image, garbage);
        domid = world.createDomain("guest1", 8192);
    }

    @AfterEach
    void stop() {
        world.close();
    }

    static Map<String, String> offer(RingShape layouts) {
        Map<String, String> m = new LinkedHashMap<>(BlkEndToEndTest.offer(2, 2));
        for (String key : RingShape.KEYS) {
            m.put(key, layouts.features().containsKey(key) ? "1" : "0");
        }
        return m;
    }

    VbdHarness attach(Map<String, String> offer) {
        return world.attachVbd(domid, DEVID, Map.of("params", image.toString(), "mode", "w"), offer, offer);
    }

    String fe(String key) {
        return world.xs.tryRead("/local/domain/" + domid + "/device/vbd/" + DEVID + "/" + key).orElse(null);
    }

    long stat(String key) {
        return Long.parseLong(fe("stats/" + key));
    }

    void awaitDone(GuestProcess guest) throws InterruptedException {
        long end = System.currentTimeMillis() + 60_000;
        while (!"done".equals(fe("stats/phase"))) {
            if (System.currentTimeMillis() > end || !guest.alive()) {
                throw new AssertionError("workload not done (phase " + fe("stats/phase") + ")\n" + guest.output());
            }
            Thread.sleep(50);
        }
    }

    void assertAllVerified(long sectors) {
        assertThat(stat("sent")).isEqualTo(stat("answered")).isPositive();
        assertThat(stat("failed")).isZero();
        assertThat(stat("mismatches")).isZero();
        assertThat(stat("verified-sectors")).as("the region read back at the end, and random reads").isGreaterThanOrEqualTo(sectors);
    }

    /** Two queues of four pages each; the frontend knows all three features, the backend offers two. */
    @Test
    void aFrontendTakesTheOfferedLayoutsItKnowsOnMultiPageMultiQueueRings() throws Exception {
        RingShape offered = new RingShape(true, false, true);
        try (VbdHarness vbd = attach(offer(offered));
             GuestProcess guest = new GuestProcess(dir, domid,
                     "ring-order=2,queues=2,indirect=32,ops=2000,depth=32,region=2048,max-sectors=128,layout=all")) {
            awaitDone(guest);
            assertAllVerified(2048);
            assertThat(fe(RingShape.SPLIT_INDEXES)).isEqualTo("1");
            assertThat(fe(RingShape.SEPARATE_RINGS)).isEqualTo("1");
            assertThat(fe(RingShape.ALIGNED_SLOTS)).as("not offered, not taken").isNull();
            for (int q = 0; q < 2; q++) {
                for (int i = 0; i < 4; i++) {
                    assertThat(fe("queue-" + q + "/ring-ref" + i)).matches("\\d+");
                    assertThat(fe("queue-" + q + "/rsp-ring-ref" + i)).matches("\\d+");
                }
            }
            Map<String, String> status = vbd.status();
            for (int q = 0; q < 2; q++) {
                assertThat(status.get("queue-" + q + "/ring")).isEqualTo("split-indexes+separate-rings/2x4 pages/128x112+16");
                assertThat(Long.parseLong(status.get("queue-" + q + "/wr_req"))).isPositive();
            }
            assertThat(vbd.fatals).isEmpty();
        }
    }

    @Test
    void alignedSlotsAloneOnOnePage() throws Exception {
        try (VbdHarness vbd = attach(offer(new RingShape(true, true, true)));
             GuestProcess guest = new GuestProcess(dir, domid,
                     "ring-order=0,queues=1,indirect=0,ops=500,depth=16,region=1024,max-sectors=64,layout=aligned-slots")) {
            awaitDone(guest);
            assertAllVerified(1024);
            assertThat(fe(RingShape.ALIGNED_SLOTS)).isEqualTo("1");
            assertThat(fe("ring-ref")).matches("\\d+");
            assertThat(vbd.status().get("queue-0/ring")).isEqualTo("aligned-slots/1 page/16x128");
        }
    }

    /** Real-Linux compatibility: all offered, none known: ring.h's ring and keys, as before. */
    @Test
    void aFrontendThatKnowsNoLayoutSeesRingHsRingAndWritesNoNewKey() throws Exception {
        try (VbdHarness vbd = attach(offer(new RingShape(true, true, true)));
             GuestProcess guest = new GuestProcess(dir, domid,
                     "ring-order=0,queues=1,indirect=0,ops=300,depth=8,region=512,max-sectors=32")) {
            awaitDone(guest);
            assertAllVerified(512);
            java.util.List<String> keys = world.xs.directory("/local/domain/" + domid + "/device/vbd/" + DEVID);
            assertThat(keys).as("the frontend's keys").doesNotContain(RingShape.SPLIT_INDEXES, RingShape.ALIGNED_SLOTS,
                    RingShape.SEPARATE_RINGS, RingShape.RSP_RING_REF).contains("ring-ref", "event-channel", "protocol");
            assertThat(vbd.status().get("queue-0/ring")).isEqualTo("ring.h/1 page/32x112");
        }
    }

    /**
     * pv:request feature-split-indexes 1 (the offer changes, the device goes through Closing): the
     * frontend reconnects onto split indexes mid-traffic, and every request is answered.
     */
    @Test
    void switchingLayoutUnderTrafficLosesNoRequest() throws Exception {
        try (VbdHarness vbd = attach(offer(RingShape.LEGACY));
             GuestProcess guest = new GuestProcess(dir, domid,
                     "ring-order=1,queues=1,indirect=32,ops=-1,depth=16,min-sectors=1,max-sectors=64,"
                             + "read=45,write=45,flush=5,discard=5,region=2048,fill=1,verify=1,seed=3,layout=all")) {
            long end = System.currentTimeMillis() + 60_000;
            while (fe("stats/sent") == null || stat("sent") < 500) {
                assertThat(System.currentTimeMillis()).as("guest progress\n" + guest.output()).isLessThan(end);
                Thread.sleep(20);
            }
            assertThat(vbd.status().get("queue-0/ring")).startsWith("ring.h/");
            vbd.publishOffer(offer(new RingShape(true, false, false)));
            vbd.reconnect();
            // Endless traffic (ops=-1) until well after the reconnect, then the guest's stop key:
            // a fixed count once finished before the switch on a fast machine.
            while (fe("stats/reconnects") == null || stat("reconnects") < 1 || stat("sent") < stat("sent-at-reconnect") + 500) {
                assertThat(System.currentTimeMillis()).as("traffic after the reconnect\n" + guest.output()).isLessThan(end);
                Thread.sleep(20);
            }
            world.xs.write("/local/domain/" + domid + "/device/vbd/" + DEVID + "/" + Blkfronts.STOP_KEY, "1");
            awaitDone(guest);
            assertThat(stat("reconnects")).isEqualTo(1);
            assertThat(stat("sent-at-reconnect")).as("switched in the middle of the traffic").isGreaterThanOrEqualTo(500L);
            assertAllVerified(2048);
            assertThat(stat("eopnotsupp")).isZero();
            assertThat(fe(RingShape.SPLIT_INDEXES)).isEqualTo("1");
            assertThat(fe("stats/ring-layout")).isEqualTo("split-indexes");
            assertThat(vbd.status().get("queue-0/ring")).isEqualTo("split-indexes/2 pages/64x112");
            assertThat(vbd.fatals).isEmpty();
        }
    }
}
