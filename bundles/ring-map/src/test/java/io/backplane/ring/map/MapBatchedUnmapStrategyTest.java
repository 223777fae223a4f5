package io.backplane.ring.map;

import static io.backplane.guest.grantpool.GrantPoolMain.pattern;
import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.hypervisor.GrantStatus;
import io.backplane.api.ring.RingChannel;
import io.backplane.api.ring.RingRequest;
import io.backplane.api.ring.SegmentCopy;
import io.backplane.api.ring.SegmentIo;
import io.backplane.guest.grantpool.GrantPoolSim;
import io.backplane.ring.layout.GrantEntryV1Descriptor;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** map-batched-unmap against the sim, the pages granted by a guest process. */
class MapBatchedUnmapStrategyTest {
    static final int PAGES = 16;
    static final int PERMIT = GrantEntryV1Descriptor.GTF_PERMIT_ACCESS;

    @TempDir
    Path stateDir;
    GrantPoolSim fx;
    int[] refs;
    MapBatchedUnmapStrategy strategy;

    @BeforeEach
    void start() throws Exception {
        fx = GrantPoolSim.start(stateDir, PAGES);
        refs = fx.pool().refs();
        strategy = new MapBatchedUnmapStrategy(fx.grants());
    }

    @AfterEach
    void stop() {
        fx.close();
    }

    RingChannel open() {
        return strategy.open(new RingRequest(fx.domid(), "netif-tx", 12, 4, new int[] {fx.pool().ringRef()}, Map.of()));
    }

    RingRequest requesting(String unmapBatch) {
        return new RingRequest(fx.domid(), "blkif", 112, 16, new int[] {fx.pool().ringRef()},
                Map.of("request-unmap-batch", unmapBatch));
    }

    @Test
    void aFrontendsRequestMakesItTheFitterStrategyAndABadOneIsIgnored() {
        assertThat(strategy.fitness(requesting("4,1000"))).isEqualTo(MapBatchedUnmapStrategy.REQUESTED_FITNESS);
        assertThat(strategy.fitness(requesting("1,0"))).isEqualTo(MapBatchedUnmapStrategy.REQUESTED_FITNESS);
        for (String bad : new String[] {"", "4", "0,10", "257,10", "4,1001", "4,-1", "a,b", "4,10,1"}) {
            assertThat(strategy.fitness(requesting(bad))).as(bad).isZero();
        }
    }

    /**
     * The frontend asked for batches of 4: the first three mappings stay after their batch ends,
     * and the fourth unmaps all in one call. Until then the guest cannot reuse a page: its own
     * grant entry still says GTF_reading (the hypervisor's flag, not the backend's word) and
     * ending access is refused; once unmapped, the entry is clear and ending access succeeds.
     */
    @Test
    void requestedBatchesUnmapInOneCallAndThePageCannotBeReusedBeforeTheUnmap() throws Exception {
        ByteBuffer local = ByteBuffer.allocateDirect(4096);
        try (RingChannel ch = strategy.open(requesting("4,1000"))) {
            SegmentIo io = ch.segments();
            for (int i = 0; i < 3; i++) {
                assertThat(io.read(refs[i], 0, local, 0, 4096)).isZero();
                assertThat(local.get(4095)).isEqualTo(pattern(refs[i], 4095));
                io.flush();
            }
            assertThat(fx.unmapBatches()).isEmpty();
            assertThat(fx.pool().flags(refs[0])).isEqualTo(PERMIT | GrantEntryV1Descriptor.GTF_READING);
            assertThat(fx.pool().revoke(refs[0])).as("still mapped: ending access is refused").isFalse();
            assertThat(io.read(refs[3], 0, local, 0, 4096)).isZero();
            io.flush();
            assertThat(fx.unmapBatches()).as("one call for the batch").containsExactly(4);
            for (int i = 0; i < 4; i++) {
                assertThat(fx.pool().flags(refs[i])).isEqualTo(PERMIT);
            }
            assertThat(fx.pool().revoke(refs[0])).as("unmapped: the page may be reused").isTrue();
            assertThat(ch.counters()).containsEntry("grant-unmaps", 4L).containsEntry("grant-unmap-batches", 1L);
        }
    }

    /** The delay bounds how long a lone mapping waits: a flush after it (the worker's idle tick) unmaps it. */
    @Test
    void theMaximumDelayUnmapsALoneMapping() throws Exception {
        ByteBuffer local = ByteBuffer.allocateDirect(64);
        try (RingChannel ch = strategy.open(requesting("64,1000"))) {
            SegmentIo io = ch.segments();
            assertThat(io.read(refs[0], 0, local, 0, 64)).isZero();
            io.flush();
            assertThat(fx.unmapBatches()).as("1 of 64, well within the delay").isEmpty();
            long start = System.nanoTime();
            while (fx.unmapBatches().isEmpty()) {
                assertThat(System.nanoTime() - start).as("unmapped once the delay passed").isLessThan(30_000_000_000L);
                Thread.sleep(20);
                io.flush();
            }
            assertThat(fx.unmapBatches()).containsExactly(1);
            assertThat(fx.pinned()).isEqualTo(1);
        }
    }

    @Test
    void fitsEveryRingHRingAtGrantCopysFitness() {
        assertThat(strategy.fitness(new RingRequest(fx.domid(), "netif-tx", 12, 4, new int[1], Map.of()))).isZero();
        assertThat(strategy.fitness(new RingRequest(fx.domid(), "blkif", 112, 16, new int[16], Map.of()))).isZero();
        assertThat(strategy.fitness(new RingRequest(fx.domid(), "blkif", 112, 16, new int[5], Map.of()))).isNegative();
    }

    @Test
    void mapsPerSegmentAndUnmapsTheBatchAtFlush() throws Exception {
        long before = fx.mappingsOfGuestMemory();
        ByteBuffer local = ByteBuffer.allocateDirect(PAGES * 4096);
        try (RingChannel ch = open()) {
            assertThat(ch.strategy()).isEqualTo("map-batched-unmap");
            assertThat(ch.geometry().entries()).isEqualTo(256);
            SegmentIo io = ch.segments();
            for (int i = 0; i < 8; i++) {
                assertThat(io.read(refs[i], 0, local, i * 4096, 4096)).isZero();
            }
            ByteBuffer src = ByteBuffer.allocateDirect(4096);
            for (int off = 0; off < 4096; off++) {
                src.put(off, pattern(99, off));
            }
            assertThat(io.write(src, 0, refs[8], 0, 4096)).isZero();

            assertThat(fx.pinned()).as("ring page and nine segment mappings until flush").isEqualTo(10);
            assertThat(fx.pool().flags(refs[0])).isEqualTo(PERMIT | GrantEntryV1Descriptor.GTF_READING);
            assertThat(fx.pool().flags(refs[8])).isEqualTo(PERMIT | GrantEntryV1Descriptor.GTF_READING | GrantEntryV1Descriptor.GTF_WRITING);
            assertThat(fx.unmapBatches()).isEmpty();

            io.flush();
            assertThat(fx.unmapBatches()).as("one batch of nine unmaps").containsExactly(9);
            assertThat(fx.pinned()).as("only the ring is left").isEqualTo(1);
            assertThat(fx.mappingsOfGuestMemory()).isEqualTo(before + 1);
            for (int i = 0; i < 9; i++) {
                assertThat(fx.pool().flags(refs[i])).isEqualTo(PERMIT);
            }
            for (int i = 0; i < 8; i++) {
                for (int off = 0; off < 4096; off++) {
                    if (local.get(i * 4096 + off) != pattern(refs[i], off)) {
                        throw new AssertionError("grant " + refs[i] + " byte " + off + " differs");
                    }
                }
            }
            assertThat(fx.pool().check(refs[8], 99)).isEqualTo("ok");
            io.flush();
            assertThat(fx.unmapBatches()).as("an empty flush unmaps nothing").containsExactly(9);
            assertThat(ch.counters()).containsEntry("grant-maps", 9L).containsEntry("grant-unmaps", 9L)
                    .containsEntry("grant-unmap-batches", 1L).containsEntry("grant-unmaps-pending", 0L);
        }
        assertThat(fx.pinned()).isZero();
        assertThat(fx.mappingsOfGuestMemory()).isEqualTo(before);
    }

    @Test
    void aRefusedGrantFailsOnlyItsSegment() throws Exception {
        int readOnly = fx.pool().readOnlyRef();
        ByteBuffer dst = ByteBuffer.allocateDirect(3 * 4096);
        try (RingChannel ch = open()) {
            SegmentIo io = ch.segments();
            int[] status = new int[5];
            io.copy(List.of(
                    SegmentCopy.fromGuest(4000, 0, dst, 0, 4096),
                    SegmentCopy.fromGuest(readOnly, 0, dst, 4096, 4096),
                    SegmentCopy.toGuest(dst, 0, readOnly, 0, 64),
                    SegmentCopy.fromGuest(refs[0], 4095, dst, 0, 2),
                    SegmentCopy.fromGuest(refs[1], 0, dst, 8192, 4096)), status);
            assertThat(status).containsExactly(GrantStatus.BAD_GNTREF.code(), 0, GrantStatus.GENERAL_ERROR.code(),
                    GrantStatus.BAD_COPY_ARG.code(), 0);
            for (int off = 0; off < 4096; off++) {
                assertThat(dst.get(4096 + off)).isEqualTo(pattern(readOnly, off));
                assertThat(dst.get(8192 + off)).isEqualTo(pattern(refs[1], off));
            }
            assertThat(fx.pool().check(readOnly, readOnly)).isEqualTo("ok");
            io.flush();
            assertThat(fx.unmapBatches()).as("only the two granted segments were mapped").containsExactly(2);
            assertThat(ch.counters()).containsEntry("grant-map-refusals", 2L);
        }
        assertThat(fx.pinned()).isZero();
    }

    @Test
    void unmapsAreForcedWhenABackendNeverFlushesAndCloseUnmapsTheRest() throws Exception {
        ByteBuffer local = ByteBuffer.allocateDirect(64);
        try (RingChannel ch = open()) {
            SegmentIo io = ch.segments();
            for (int i = 0; i < BatchedUnmapSegments.MAX_DEFERRED + 10; i++) {
                assertThat(io.read(refs[i % PAGES], 0, local, 0, 64)).isZero();
            }
            assertThat(fx.unmapBatches()).containsExactly(BatchedUnmapSegments.MAX_DEFERRED);
            assertThat(fx.pinned()).isEqualTo(1 + 10);
        }
        assertThat(fx.unmapBatches()).containsExactly(BatchedUnmapSegments.MAX_DEFERRED, 10);
        assertThat(fx.pinned()).isZero();
        for (int ref : refs) {
            assertThat(fx.pool().flags(ref)).isEqualTo(PERMIT);
        }
    }
}
