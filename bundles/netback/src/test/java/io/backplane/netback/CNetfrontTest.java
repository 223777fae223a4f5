package io.backplane.netback;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.device.DeviceId;
import io.backplane.api.sink.SinkRequest;
import io.backplane.hypervisor.sim.abi.SimGuestHeader;
import io.backplane.netback.sink.MemorySink;
import io.backplane.ring.RingShape;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A netfront in C (src/main/c/netfront_pages.c, built here with gcc against Xen's ring.h,
 * netif.h and libxenstore, from docs/netback.md's key table) connects multi-page rings to
 * netback in the sim: every TX frame reaches the sink byte for byte and in order, every RX frame
 * injected at the sink is checked byte for byte by the C program.
 */
class CNetfrontTest {
    static final int COUNT = 20_000;
    static final int RX_COUNT = 3_000;
    SimNet net;
    NetbackBus bus;
    final Map<String, MemorySink> sinks = new ConcurrentHashMap<>();

    @BeforeEach
    void start() throws Exception {
        net = new SimNet();
        bus = new NetbackBus(net.xs, new NetbackDriver(RealRings.grantCopy(net.sim), net.sim,
                (SinkRequest r) -> sinks.computeIfAbsent(r.name(), n -> new MemorySink(n, false, "test", 1 << 15)),
                NetbackDriver.Settings.defaults()));
    }

    @AfterEach
    void stop() throws Exception {
        bus.close();
        net.close();
    }

    /** The C program's frame {@code seq}: see netfront_pages.c. */
    static byte[] frame(long seq) {
        int len = (int) (60 + (seq * 97) % 1455);
        ByteBuffer b = ByteBuffer.allocate(len);
        b.put(new byte[] {-1, -1, -1, -1, -1, -1, 0x00, 0x16, 0x3e, 0x40, 0x00, 0x01}).putShort((short) 0x88B5);
        b.putInt((int) seq).putShort((short) len);
        for (int i = 20; i < len; i++) {
            b.put((byte) (seq * 31 + i));
        }
        return b.array();
    }

    @Test
    void aCNetfrontOnFourPageRingsExchangesEveryFrameWithNetback() throws Exception {
        DeviceId id = exchange(Map.of("max-ring-page-order", "2"), 4, 0, COUNT, RX_COUNT, "4-page rings of 1024 slots");
        assertThat(net.read(id.frontendPath() + "/ring-page-order")).as("min(own 4, offered 2)").isEqualTo("2");
        assertThat(net.read(id.frontendPath() + "/tx-ring-ref3")).isNotEmpty();
        assertThat(bus.status(id)).containsEntry("ring-page-order", "2").containsEntry("queue-0/ring-page-order", "2")
                .containsEntry("queue-0/tx-ring", "ring.h/4 pages/1024x12");
    }

    /**
     * The layouts of docs/ring-layouts.md laid out by the C program from ring_layouts.h alone, on
     * two-page rings: split indexes, separate request and response rings, and all three together.
     */
    @ParameterizedTest
    @CsvSource({
        "1, 512, split-indexes/2 pages/512x12, split-indexes/2 pages/512x8",
        "4, 512, separate-rings/2x2 pages/512x12+4, separate-rings/2x2 pages/512x8",
        "7, 256, split-indexes+aligned-slots+separate-rings/2x2 pages/256x16, split-indexes+aligned-slots+separate-rings/2x2 pages/256x16"})
    void aCNetfrontOnEachRingLayoutExchangesEveryFrameWithNetback(int flags, int slots, String txRing, String rxRing)
            throws Exception {
        Map<String, String> offer = new HashMap<>(Map.of("max-ring-page-order", "1"));
        for (String key : RingShape.KEYS) {
            offer.put(key, "1");
        }
        DeviceId id = exchange(offer, 1, flags, 5_000, 1_000, "2-page rings of " + slots + " slots, layout flags " + flags);
        boolean separate = (flags & 4) != 0;
        assertThat(net.xs.directory(id.frontendPath())).contains("tx-ring-ref1", "rx-ring-ref1");
        if (separate) {
            assertThat(net.read(id.frontendPath() + "/tx-rsp-ring-ref1")).matches("\\d+");
            assertThat(net.read(id.frontendPath() + "/rx-rsp-ring-ref1")).matches("\\d+");
        }
        assertThat(net.read(id.frontendPath() + "/" + RingShape.SPLIT_INDEXES)).isEqualTo((flags & 1) != 0 ? "1" : "");
        assertThat(bus.status(id)).containsEntry("queue-0/tx-ring", txRing).containsEntry("queue-0/rx-ring", rxRing);
    }

    /**
     * Frontend-requested lazy unmap on a vif: the C netfront writes {@code request-unmap-batch =
     * "8,50"} and no feature-persistent, so map-batched-unmap serves both rings without an operator
     * naming it: every TX page and every RX page is mapped for its frame and unmapped in batches.
     * The frontend ends its access to a TX page before writing the next frame into it (refused while
     * the backend still maps it); every frame is checked both ways, every map has its unmap, and
     * an idle vif unmaps what waited (only the ring pages stay pinned).
     */
    @Test
    void aCNetfrontAskingForLazyUnmapGetsItsPagesUnmappedInBatches() throws Exception {
        bus.close();
        bus = new NetbackBus(net.xs, new NetbackDriver(RealRings.all(net.sim), net.sim,
                (SinkRequest r) -> sinks.computeIfAbsent(r.name(), n -> new MemorySink(n, false, "test", 1 << 15)),
                NetbackDriver.Settings.defaults()));
        int count = 5_000;
        int rxCount = 1_000;
        DeviceId id = exchange(Map.of("max-ring-page-order", "0"), 0, 0, count, rxCount, "1-page rings of 256 slots", "8,50");
        // The last RX pages wait for their delay (50 ms) and the worker's idle tick.
        assertThat(SimNet.await(5, () -> "0".equals(bus.status(id).get("queue-0/rx-ring/grant-unmaps-pending"))))
                .as("%s", bus.status(id)).isTrue();
        Map<String, String> status = bus.status(id);
        assertThat(status).containsEntry("strategy", "map-batched-unmap");
        for (String ring : List.of("tx-ring", "rx-ring")) {
            String p = "queue-0/" + ring + "/";
            long maps = Long.parseLong(status.get(p + "grant-maps"));
            long unmaps = Long.parseLong(status.get(p + "grant-unmaps"));
            long batches = Long.parseLong(status.get(p + "grant-unmap-batches"));
            assertThat(maps).as("a map per %s frame; %s", ring, status).isEqualTo(ring.equals("tx-ring") ? count : rxCount);
            assertThat(unmaps).as("every map unmapped").isEqualTo(maps);
            assertThat(status.get(p + "grant-unmaps-pending")).isEqualTo("0");
            assertThat(batches).as("unmaps in batches of about 8, not one by one").isBetween(1L, maps / 4);
        }
    }

    /**
     * Zero-copy RX on ring-zerocopy: each frame for the guest is read from the sink straight into
     * the guest's kept RX page (the memory sink scatters it as a TAP's readv does) and answered
     * there; the C program checks every byte. Its first 4 RX buffers are granted read-only, as a
     * broken frontend might: netback cannot lend those pages, so each frame landing there falls
     * back to grant copy, which the hypervisor refuses: that frame is answered NETIF_RSP_ERROR
     * (counted: a fallback copy, a map refusal per page), and the vif and the other frames go on.
     */
    @Test
    void zeroCopyRxReadsFramesIntoTheGuestsPagesAndRefusesReadOnlyBuffers() throws Exception {
        bus.close();
        bus = new NetbackBus(net.xs, new NetbackDriver(RealRings.zeroCopyFirst(net.sim), net.sim,
                (SinkRequest r) -> sinks.computeIfAbsent(r.name(), n -> new MemorySink(n, false, "test", 1 << 15)),
                NetbackDriver.Settings.defaults()));
        int rxCount = 2_000;
        int readOnly = 4;
        int slots = 256;
        // Frames land on RX slot ids in ring order (one slot each, reposted with the same id).
        int refused = 0;
        for (int j = 0; j < rxCount; j++) {
            refused += j % slots < readOnly ? 1 : 0;
        }
        DeviceId id = exchange(Map.of("max-ring-page-order", "0", "feature-persistent", "1"), 0, 0, 200, rxCount,
                "1-page rings of " + slots + " slots", "", true, readOnly);
        assertThat(Files.readString(net.stateDir.resolve("c-netfront-" + id.frontendDomid() + ".log")))
                .contains("RX CHECKED " + (rxCount - refused) + " refused " + refused);
        Map<String, String> status = bus.status(id);
        assertThat(status).containsEntry("strategy", "zero-copy")
                .containsEntry("queue-0/rx-packets", Long.toString(rxCount - refused))
                .containsEntry("queue-0/rx-errors", Long.toString(refused))
                .containsEntry("queue-0/rx-ring/zero-copy-fallback-copies", Long.toString(refused))
                .containsEntry("queue-0/rx-ring/zero-copy-map-refusals", Long.toString(readOnly))
                .containsEntry("queue-0/rx-zero-copy-spilled", "0");
        long zeroCopy = Long.parseLong(status.get("queue-0/rx-zero-copy"));
        long copied = Long.parseLong(status.get("queue-0/rx-ring/zero-copy-memcpy"));
        // Frames that found no buffer posted waited in the backlog and were copied through the
        // kept mapping (one memcpy each); every other one was read into the guest's page in place.
        System.out.printf("zero-copy RX: %d frames in place, %d copied from the backlog, %d refused%n", zeroCopy, copied, refused);
        assertThat(zeroCopy).as("%s", status).isPositive();
        assertThat(zeroCopy + copied).as("%s", status).isEqualTo(rxCount - refused);
    }

    /**
     * Starts the C netfront on a new domain with {@code offer} from netback, lets it send {@code count}
     * frames (each checked at the sink, in order) and receive {@code rxCount} (each checked by the C
     * program), and returns the device once the program has exited cleanly.
     */
    private DeviceId exchange(Map<String, String> offer, int ownOrder, int flags, int count, int rxCount, String connected)
            throws Exception {
        return exchange(offer, ownOrder, flags, count, rxCount, connected, "");
    }

    private DeviceId exchange(Map<String, String> offer, int ownOrder, int flags, int count, int rxCount, String connected,
                              String unmapBatch) throws Exception {
        return exchange(offer, ownOrder, flags, count, rxCount, connected, unmapBatch, false, 0);
    }

    /**
     * @param unmapBatch the frontend's request-unmap-batch, "" for none
     * @param persistent the frontend writes feature-persistent (and the grants a strategy keeps stay pinned)
     * @param rxReadOnly RX buffers granted read-only (their frames are refused; see netfront_pages.c)
     */
    private DeviceId exchange(Map<String, String> offer, int ownOrder, int flags, int count, int rxCount, String connected,
                              String unmapBatch, boolean persistent, int rxReadOnly) throws Exception {
        Path binary = compile("netfront_pages");
        int domid = net.createDomain("c-netfront");
        bus.offer(domid, 0, 1, offer);
        DeviceId id = net.addVif(domid, 0, "00:16:3e:40:00:01", "xenbr0", null);
        Path log = net.stateDir.resolve("c-netfront-" + domid + ".log");
        Process c = new ProcessBuilder(List.of(binary.toString(), net.stateDir.toString(), Integer.toString(domid),
                Integer.toString(ownOrder), Integer.toString(count), Integer.toString(rxCount), "0", persistent ? "1" : "0",
                Integer.toString(flags), unmapBatch, Integer.toString(rxReadOnly)))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            assertThat(SimNet.await(20, () -> "4".equals(net.read(id.backendPath() + "/state"))))
                    .as("connected; %s", Files.readString(log)).isTrue();
            MemorySink sink = sinks.get("vif" + domid + ".0");
            for (long seq = 0; seq < count; seq++) {
                byte[] f = sink.takeTransmitted(10_000);
                assertThat(f).as("frame %d; %s", seq, Files.readString(log)).isNotNull();
                assertThat(f).as("frame %d", seq).isEqualTo(frame(seq));
            }
            assertThat(SimNet.await(20, () -> net.read(id.frontendPath() + "/c-tx-done").equals(Integer.toString(count))))
                    .as(Files.readString(log)).isTrue();
            // Idle (a grant copy in flight pins its grant too): only the ring pages stay mapped.
            int order = Math.min(ownOrder, Integer.parseInt(offer.get("max-ring-page-order")));
            int expectedPinned = 2 * (1 << order) * ((flags & 4) != 0 ? 2 : 1);
            assertThat(persistent || SimNet.await(5, () -> net.sim.pinnedGrants(domid) == expectedPinned))
                    .as("the TX and RX ring pages pinned (%d), not %d", expectedPinned, net.sim.pinnedGrants(domid)).isTrue();
            for (long seq = 0; seq < rxCount; seq++) {
                if (seq % 64 == 0) {
                    // At most a backlog's worth ahead of what netback answered: a reader that finds
                    // netback's backlog full for 100 ms drops, as a NIC under overload would, and
                    // a loaded machine can leave the C program that long without reposting.
                    long ahead = seq;
                    assertThat(SimNet.await(20, () -> ahead - answeredRx(id) < 384)).as("%s", bus.status(id)).isTrue();
                }
                byte[] f = frame(100_000 + seq);
                // The sink's bounded queue: wait for room rather than drop.
                for (int tries = 0; !sink.inject(f); tries++) {
                    assertThat(tries).as("sink accepts frame %d", seq).isLessThan(1000);
                    Thread.sleep(1);
                }
            }
            assertThat(c.waitFor(30, TimeUnit.SECONDS)).as("%s; %s; sink dropped %d", Files.readString(log), bus.status(id),
                    sink.dropped()).isTrue();
            assertThat(c.exitValue()).as(Files.readString(log)).isZero();
            assertThat(Files.readString(log)).contains("connected with " + connected)
                    .contains("TX DONE " + count)
                    .contains(rxReadOnly == 0 ? "RX CHECKED " + rxCount + " refused 0" : "RX CHECKED ");
            assertThat(bus.status(id)).containsEntry("queue-0/tx-errors", "0");
            return id;
        } finally {
            c.destroyForcibly();
        }
    }

    /** RX frames netback answered on queue 0, delivered or refused. */
    private long answeredRx(DeviceId id) {
        Map<String, String> status = bus.status(id);
        return Long.parseLong(status.getOrDefault("queue-0/rx-packets", "0")) + Long.parseLong(status.getOrDefault("queue-0/rx-errors", "0"));
    }

    /**
     * gcc against Xen's headers, libxenstore, ring-core's ring_layouts.h and sim-abi's
     * sim_guest.h (from the class path); a missing tool fails naming the package to install.
     */
    static Path compile(String program) throws Exception {
        Path include = Files.createDirectories(Path.of("target/test-c/include/backplane").toAbsolutePath());
        try (var h = CNetfrontTest.class.getResourceAsStream("/io/backplane/ring/c/backplane/ring_layouts.h")) {
            assertThat(h).as("ring-core's ring_layouts.h on the class path").isNotNull();
            Files.write(include.resolve("ring_layouts.h"), h.readAllBytes());
        }
        SimGuestHeader.copyTo(include.getParent());
        Path source = Path.of("src/main/c/" + program + ".c").toAbsolutePath();
        Path binary = Path.of("target/" + program).toAbsolutePath();
        assertThat(Path.of("/usr/include/xen/io/netif.h")).as("Xen's headers: apt-get install libxen-dev").exists();
        assertThat(Path.of("/usr/include/xenstore.h")).as("libxenstore's header: apt-get install libxen-dev").exists();
        Process gcc;
        try {
            gcc = new ProcessBuilder("gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-I", include.getParent().toString(),
                    "-o", binary.toString(), source.toString(), "-lxenstore").redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            throw new AssertionError("gcc not found: apt-get install gcc", e);
        }
        String out = new String(gcc.getInputStream().readAllBytes());
        assertThat(gcc.waitFor()).as("gcc " + source + ":\n" + out).isZero();
        return binary;
    }
}
