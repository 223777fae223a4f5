package io.backplane.blkback;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.ring.RingRequest;
import io.backplane.guest.blkfront.SectorPattern;
import io.backplane.nativeio.NativeIo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
 * blkback and the blkfront of a real guest process through the sim: the guest's own XenStore
 * connection, its grant table, event channels and memory, a real image file.
 */
class BlkEndToEndTest {
    static final int DEVID = 51712;
    static final long IMAGE_SECTORS = 32768; // 16 MiB
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
    void start() throws IOException {
        world = new SimWorld(dir, io);
        image = dir.resolve("disk.img");
        byte[] garbage = new byte[(int) (IMAGE_SECTORS * 512)];
        Arrays.fill(garbage, (byte) 0xEE);
        Files.write(image, garbage);
        domid = world.createDomain("guest1", 8192);
    }

    @AfterEach
    void stop() {
        world.close();
    }

    static Map<String, String> offer(int order, int queues) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("feature-max-indirect-segments", "256");
        m.put("multi-queue-max-queues", Integer.toString(queues));
        m.put("max-ring-page-order", Integer.toString(order));
        m.put("feature-persistent", "1");
        m.put("feature-flush-cache", "1");
        m.put("feature-discard", "1");
        m.put("feature-barrier", "1");
        return m;
    }

    VbdHarness attach(Map<String, String> offer, String mode) {
        return attach(offer, offer, mode);
    }

    /** {@code published} is what the frontend reads; {@code offer} what the backend holds it to. */
    VbdHarness attach(Map<String, String> published, Map<String, String> offer, String mode) {
        return world.attachVbd(domid, DEVID, Map.of("params", image.toString(), "mode", mode), published, offer);
    }

    String fe(String key) {
        return world.xs.tryRead("/local/domain/" + domid + "/device/vbd/" + DEVID + "/" + key).orElse(null);
    }

    String be(String key) {
        return world.xs.tryRead("/local/domain/0/backend/vbd/" + domid + "/" + DEVID + "/" + key).orElse(null);
    }

    void awaitDone(GuestProcess guest, long millis) throws InterruptedException {
        long end = System.currentTimeMillis() + millis;
        while (!"done".equals(fe("stats/phase"))) {
            if (System.currentTimeMillis() > end || !guest.alive()) {
                throw new AssertionError("workload not done (phase " + fe("stats/phase") + ")\n" + guest.output());
            }
            Thread.sleep(50);
        }
        if (System.getenv("SHOW_GUEST") != null) {
            System.err.println(guest.output());
        }
    }

    long stat(String key) {
        return Long.parseLong(fe("stats/" + key));
    }

    @Test
    void whatTheGuestWritesIsByteIdenticalInTheImageFile() throws Exception {
        try (VbdHarness vbd = attach(offer(4, 2), "w");
             GuestProcess guest = new GuestProcess(dir, domid,
                     "ring-order=2,queues=2,indirect=64,ops=0,fill=1,verify=1,region=8192,max-sectors=200,depth=8")) {
            awaitDone(guest, 60_000);

            // Linux blkfront's keys: order 2 of 4 offered, 2 queues, per-queue ring-ref0..3.
            assertThat(fe("ring-page-order")).isEqualTo("2");
            assertThat(fe("multi-queue-num-queues")).isEqualTo("2");
            for (int q = 0; q < 2; q++) {
                for (int i = 0; i < 4; i++) {
                    assertThat(fe("queue-" + q + "/ring-ref" + i)).matches("\\d+");
                }
                assertThat(fe("queue-" + q + "/event-channel")).matches("\\d+");
            }
            assertThat(fe("ring-ref")).isNull();
            assertThat(fe("protocol")).isEqualTo("x86_64-abi");
            assertThat(fe("state")).isEqualTo("4");
            assertThat(be("state")).isEqualTo("4");
            assertThat(be("sectors")).isEqualTo(Long.toString(IMAGE_SECTORS));
            assertThat(be("sector-size")).isEqualTo("512");
            assertThat(be("info")).isEqualTo("0");
            assertThat(fe("stats/indirect-segments")).isEqualTo("64");

            assertThat(stat("sent")).isEqualTo(stat("answered")).isPositive();
            assertThat(stat("failed")).isZero();
            assertThat(stat("mismatches")).isZero();
            assertThat(stat("verified-sectors")).isEqualTo(8192);
            assertThat(stat("flushes")).isEqualTo(1);

            ByteBuffer disk = ByteBuffer.allocateDirect((int) (IMAGE_SECTORS * 512));
            try (FileChannel ch = FileChannel.open(image, StandardOpenOption.READ)) {
                while (disk.hasRemaining() && ch.read(disk, disk.position()) > 0) {
                    // read all
                }
            }
            for (long s = 0; s < 8192; s++) {
                assertThat(SectorPattern.matches(disk, (int) s * 512, s, 1)).as("sector %d", s).isTrue();
            }
            for (int i = 8192 * 512; i < disk.capacity(); i++) {
                assertThat(disk.get(i)).as("byte %d beyond the region", i).isEqualTo((byte) 0xEE);
            }
            // Both queues carried requests.
            assertThat(Long.parseLong(vbd.status().get("queue-0/wr_req"))).isPositive();
            assertThat(Long.parseLong(vbd.status().get("queue-1/wr_req"))).isPositive();
        }
    }

    /**
     * With persistent grants, reads and writes go straight between the image file and the
     * guest's mapped pages (one preadv/pwritev per request, no bounce copy): the image holds
     * exactly what the guest wrote, and every sector it reads back verifies.
     */
    @Test
    void persistentGrantsMoveDataStraightBetweenImageAndGuestPages() throws Exception {
        world.allStrategies = true;
        try (VbdHarness vbd = attach(offer(2, 1), "w");
             GuestProcess guest = new GuestProcess(dir, domid,
                     "ring-order=1,queues=1,indirect=32,ops=0,fill=1,verify=1,region=2048,max-sectors=128,depth=8")) {
            awaitDone(guest, 60_000);
            assertThat(stat("failed")).isZero();
            assertThat(stat("mismatches")).isZero();
            assertThat(stat("verified-sectors")).isEqualTo(2048);
            Map<String, String> status = vbd.status();
            assertThat(status.get("queue-0/strategy")).isEqualTo("persistent");
            long direct = Long.parseLong(status.get("queue-0/zero-copy-requests"));
            long requests = Long.parseLong(status.get("queue-0/rd_req")) + Long.parseLong(status.get("queue-0/wr_req"));
            assertThat(direct).as("requests served with no copy, of " + requests).isPositive()
                    .isGreaterThanOrEqualTo(requests * 9 / 10);
            // A request's grants new to the backend are mapped together (SegmentIo.prepare), up to 16 in one call here.
            long maps = Long.parseLong(status.get("queue-0/persistent-maps"));
            long calls = Long.parseLong(status.get("queue-0/persistent-map-calls"));
            assertThat(calls).as("map calls for %d persistent grants", maps).isPositive().isLessThan(maps / 2);
            ByteBuffer disk = ByteBuffer.allocateDirect(2048 * 512);
            try (FileChannel ch = FileChannel.open(image, StandardOpenOption.READ)) {
                while (disk.hasRemaining() && ch.read(disk, disk.position()) > 0) {
                    // read all
                }
            }
            for (long sector = 0; sector < 2048; sector++) {
                assertThat(SectorPattern.matches(disk, (int) sector * 512, sector, 1)).as("sector %d", sector).isTrue();
            }
        }
    }

    /**
     * The zero-copy strategy, ranked first: every read and write is one preadv/pwritev between
     * the image and the guest's kept pages, no segment is copied, and every sector verifies.
     */
    @Test
    void zeroCopyServesEveryRequestInTheGuestsPages() throws Exception {
        world.allStrategies = true;
        world.zeroCopyFirst = true;
        try (VbdHarness vbd = attach(offer(1, 1), "w");
             GuestProcess guest = new GuestProcess(dir, domid,
                     "ring-order=1,queues=1,indirect=32,ops=0,fill=1,verify=1,region=2048,max-sectors=128,depth=8")) {
            awaitDone(guest, 60_000);
            assertThat(stat("failed")).isZero();
            assertThat(stat("mismatches")).isZero();
            assertThat(stat("verified-sectors")).isEqualTo(2048);
            Map<String, String> status = vbd.status();
            assertThat(status.get("queue-0/strategy")).isEqualTo("zero-copy");
            long requests = Long.parseLong(status.get("queue-0/rd_req")) + Long.parseLong(status.get("queue-0/wr_req"));
            assertThat(status.get("queue-0/zero-copy-requests")).as(status.toString()).isEqualTo(Long.toString(requests));
            assertThat(status.get("queue-0/zero-copy-fallback-copies")).isEqualTo("0");
            ByteBuffer disk = ByteBuffer.allocateDirect(2048 * 512);
            try (FileChannel ch = FileChannel.open(image, StandardOpenOption.READ)) {
                while (disk.hasRemaining() && ch.read(disk, disk.position()) > 0) {
                    // read all
                }
            }
            for (long sector = 0; sector < 2048; sector++) {
                assertThat(SectorPattern.matches(disk, (int) sector * 512, sector, 1)).as("sector %d", sector).isTrue();
            }
        }
    }

    /**
     * Whole-memory mapping for a domain the policy names: every read and write goes straight
     * between the image and the guest's memory, reached through one mapping of it after each
     * grant entry is checked; every sector verifies. A domain it does not name gets persistent.
     */
    @Test
    void aTrustedDomainIsServedThroughItsWholeMemory() throws Exception {
        world.allStrategies = true;
        world.wholeMemoryTrusted = new String[] {"guest1"};
        int other = world.createDomain("guest2", 8192);
        try (VbdHarness vbd = attach(offer(1, 1), "w");
             GuestProcess guest = new GuestProcess(dir, domid,
                     "ring-order=1,queues=1,indirect=32,ops=0,fill=1,verify=1,region=2048,max-sectors=128,depth=8")) {
            awaitDone(guest, 60_000);
            assertThat(stat("failed")).isZero();
            assertThat(stat("mismatches")).isZero();
            assertThat(stat("verified-sectors")).isEqualTo(2048);
            Map<String, String> status = vbd.status();
            assertThat(status.get("queue-0/strategy")).isEqualTo("whole-memory");
            long requests = Long.parseLong(status.get("queue-0/rd_req")) + Long.parseLong(status.get("queue-0/wr_req"));
            assertThat(status.get("queue-0/zero-copy-requests")).as(status.toString()).isEqualTo(Long.toString(requests));
            assertThat(status.get("queue-0/whole-memory-refusals")).isEqualTo("0");
            assertThat(Long.parseLong(status.get("queue-0/whole-memory-pages"))).isEqualTo(8192);
        }
        RingRequest untrusted = new RingRequest(other, "blkif", 112, 16, new int[] {8}, Map.of("feature-persistent", "1"));
        assertThat(world.strategies.rank(untrusted)).as("not named: not served").doesNotContain("whole-memory")
                .startsWith("persistent");
    }

    /**
     * A blkfront that does not reuse its grants but asks for batched unmaps
     * ({@code request-unmap-batch = "8,50"}) gets map-batched-unmap without any operator naming
     * it: unmaps go in batches (far fewer unmap calls than unmaps), every sector verifies, and
     * once the guest is idle the worker's tick has unmapped everything.
     */
    @Test
    void aFrontendAskingForBatchedUnmapsGetsThem() throws Exception {
        world.allStrategies = true;
        try (VbdHarness vbd = attach(offer(1, 1), "w");
             GuestProcess guest = new GuestProcess(dir, domid,
                     "ring-order=1,queues=1,indirect=32,persistent=0,unmap-batch=8:50,ops=0,fill=1,verify=1,region=2048,"
                             + "max-sectors=128,depth=8")) {
            awaitDone(guest, 60_000);
            assertThat(stat("failed")).isZero();
            assertThat(stat("mismatches")).isZero();
            assertThat(stat("verified-sectors")).isEqualTo(2048);
            assertThat(fe("request-unmap-batch")).isEqualTo("8,50");
            Map<String, String> status = vbd.status();
            assertThat(status.get("queue-0/strategy")).isEqualTo("map-batched-unmap");
            long deadline = System.currentTimeMillis() + 10_000;
            while (!"0".equals(vbd.status().get("queue-0/grant-unmaps-pending")) && System.currentTimeMillis() < deadline) {
                Thread.sleep(20);
            }
            status = vbd.status();
            assertThat(status.get("queue-0/grant-unmaps-pending")).as("idle: all unmapped; %s", status).isEqualTo("0");
            long unmaps = Long.parseLong(status.get("queue-0/grant-unmaps"));
            long batches = Long.parseLong(status.get("queue-0/grant-unmap-batches"));
            assertThat(unmaps).isEqualTo(Long.parseLong(status.get("queue-0/grant-maps"))).isPositive();
            assertThat(batches).as("%d unmaps in %d calls", unmaps, batches).isLessThanOrEqualTo(unmaps / 4);
        }
    }

    @Test
    void aRandomMixSurvivesABackendReconnectWithNoRequestLost() throws Exception {
        try (VbdHarness vbd = attach(offer(1, 1), "w");
             GuestProcess guest = new GuestProcess(dir, domid,
                     "ring-order=4,queues=4,indirect=32,ops=20000,depth=24,min-sectors=1,max-sectors=128,"
                             + "read=40,write=40,flush=10,discard=10,region=4096,fill=1,verify=1,seed=7")) {
            long end = System.currentTimeMillis() + 30_000;
            while (fe("stats/sent") == null || stat("sent") < 1000) {
                assertThat(System.currentTimeMillis()).as("guest progress\n" + guest.output()).isLessThan(end);
                Thread.sleep(20);
            }
            vbd.reconnect();
            awaitDone(guest, 60_000);

            // Offer: order 1, one queue: the frontend took min(own, offered).
            assertThat(fe("ring-page-order")).isEqualTo("1");
            assertThat(fe("multi-queue-num-queues")).isNull();
            assertThat(fe("ring-ref0")).matches("\\d+");
            assertThat(fe("ring-ref1")).matches("\\d+");

            System.err.printf("blk end to end: %d requests (%d sectors read, %d written) in %d ms through one reconnect%n",
                    stat("answered"), stat("sectors-read"), stat("sectors-written"), stat("elapsed-ms"));
            assertThat(stat("reconnects")).isEqualTo(1);
            assertThat(stat("sent-at-reconnect")).as("reconnected in the middle of the traffic").isBetween(1000L, 19_999L);
            assertThat(stat("sent")).isEqualTo(stat("answered"));
            assertThat(stat("failed")).isZero();
            assertThat(stat("eopnotsupp")).isZero();
            assertThat(stat("mismatches")).isZero();
            assertThat(stat("discards")).isPositive();
            assertThat(stat("flushes")).isPositive();
            assertThat(stat("verified-sectors")).isPositive();
            assertThat(fe("state")).isEqualTo("4");
            assertThat(vbd.backendState()).isEqualTo("4");
            assertThat(vbd.fatals).isEmpty();
        }
    }

    /**
     * With persistent grants the zero-copy reads and writes of a ring are in flight several at
     * once, answered as they end, while flushes and discards wait for them: a random mix (no two
     * requests in flight on the same sectors, as a block layer sends them) verifies every sector
     * read, also across a reconnect with requests in flight.
     */
    @Test
    void aRandomMixOnPersistentGrantsIsServedSeveralAtATimeAndVerifies() throws Exception {
        world.allStrategies = true;
        try (VbdHarness vbd = attach(offer(2, 1), "w");
             GuestProcess guest = new GuestProcess(dir, domid,
                     "ring-order=2,queues=1,indirect=32,ops=6000,depth=24,min-sectors=1,max-sectors=128,"
                             + "read=40,write=40,flush=10,discard=10,region=4096,fill=1,verify=1,seed=11")) {
            long end = System.currentTimeMillis() + 30_000;
            while (fe("stats/sent") == null || stat("sent") < 1000) {
                assertThat(System.currentTimeMillis()).as("guest progress\n" + guest.output()).isLessThan(end);
                Thread.sleep(20);
            }
            vbd.reconnect();
            awaitDone(guest, 60_000);

            Map<String, String> status = vbd.status();
            assertThat(status.get("queue-0/strategy")).isEqualTo("persistent");
            assertThat(Long.parseLong(status.get("queue-0/zero-copy-requests"))).isPositive();
            assertThat(Integer.parseInt(status.get("queue-0/max-in-flight"))).as("requests in flight at once").isGreaterThan(1);
            assertThat(stat("reconnects")).isEqualTo(1);
            assertThat(stat("sent")).isEqualTo(stat("answered"));
            assertThat(stat("failed")).isZero();
            assertThat(stat("mismatches")).isZero();
            assertThat(stat("flushes")).isPositive();
            assertThat(stat("discards")).isPositive();
            assertThat(stat("verified-sectors")).isPositive();
            assertThat(vbd.fatals).isEmpty();
        }
    }

    @Test
    void destroyingTheGuestMidTrafficLeavesNothingMappedOrBound() throws Exception {
        VbdHarness vbd = attach(offer(2, 2), "w");
        try (GuestProcess guest = new GuestProcess(dir, domid, "ring-order=2,queues=2,ops=-1,fill=0,depth=16,region=4096")) {
            long end = System.currentTimeMillis() + 30_000;
            while (fe("stats/sent") == null || stat("sent") < 1000) {
                assertThat(System.currentTimeMillis()).as("guest progress\n" + guest.output()).isLessThan(end);
                Thread.sleep(20);
            }
            world.sim.destroy(domid);
            vbd.close(); // the core removes the device when its backend directory goes
            long gone = System.currentTimeMillis() + 10_000;
            while (guest.alive() && System.currentTimeMillis() < gone) {
                Thread.sleep(20);
            }
            assertThat(guest.alive()).as("guest process ends with its domain").isFalse();
        }
        assertThat(world.sim.dom0PortsInUse()).as("dom0 event channel ports").isZero();
        long mapped = Files.readAllLines(Path.of("/proc/self/maps")).stream()
                .filter(l -> l.contains(dir.resolve("domains").toString())).count();
        assertThat(mapped).as("mappings of guest memory left in dom0").isZero();
    }

    @Test
    void anOfferRaisedLiveIsWhatTheReconnectIsCheckedAgainst() throws Exception {
        try (VbdHarness vbd = attach(offer(1, 1), "w");
             GuestProcess guest = new GuestProcess(dir, domid, "ring-order=4,queues=4,ops=-1,fill=0,depth=8,region=2048")) {
            vbd.awaitFrontendState("4", 20_000);
            assertThat(fe("ring-page-order")).isEqualTo("1");
            vbd.publishOffer(offer(3, 2));
            vbd.reconnect();
            vbd.awaitFrontendState("4", 20_000);
            assertThat(vbd.fatals).isEmpty();
            assertThat(fe("ring-page-order")).isEqualTo("3");
            assertThat(fe("multi-queue-num-queues")).isEqualTo("2");
            assertThat(vbd.status()).containsEntry("ring-page-order", "3").containsEntry("queues", "2");
            long before = stat("answered");
            long end = System.currentTimeMillis() + 10_000;
            while (stat("answered") < before + 500) {
                assertThat(System.currentTimeMillis()).as("traffic after the reconnect\n" + guest.output()).isLessThan(end);
                Thread.sleep(20);
            }
            assertThat(stat("failed")).isZero();
            assertThat(stat("mismatches")).isZero();
        }
    }

    @Test
    void aFrontendRefusedThreeTimesInARowStopsAskingToReconnect() throws Exception {
        VbdHarness harness = attach(offer(4, 1), offer(1, 1), "w");
        // The workload from the toolstack's per-device key this time, over the guest-wide default.
        world.xs.write("/local/domain/" + domid + "/device/vbd/" + DEVID + "/backplane-workload", "ring-order=2,queues=1");
        try (VbdHarness vbd = harness; GuestProcess guest = new GuestProcess(dir, domid, "ring-order=0")) {
            long end = System.currentTimeMillis() + 20_000;
            while (!"refused".equals(fe("stats/phase"))) {
                assertThat(System.currentTimeMillis()).as("frontend gives up\n" + guest.output()).isLessThan(end);
                Thread.sleep(20);
            }
            String refusal = vbd.id.frontendPath() + "/request 2 ring page order exceed max:1";
            assertThat(vbd.fatals).hasSize(3).containsOnly(refusal);
            Thread.sleep(500);
            assertThat(vbd.fatals).hasSize(3);
            assertThat(guest.output()).contains("backend refused 3 connections in a row (" + refusal + ")");
        }
    }
}
