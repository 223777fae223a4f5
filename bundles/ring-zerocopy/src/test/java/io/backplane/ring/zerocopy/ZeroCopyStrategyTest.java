package io.backplane.ring.zerocopy;

import static io.backplane.guest.grantpool.GrantPoolMain.pattern;
import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.hypervisor.GrantStatus;
import io.backplane.api.ring.RingChannel;
import io.backplane.api.ring.RingRequest;
import io.backplane.api.ring.SegmentIo;
import io.backplane.guest.grantpool.GrantPoolSim;
import io.backplane.ring.layout.GrantEntryV1Descriptor;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The zero-copy strategy against the sim, its pages granted by a separate guest process. */
class ZeroCopyStrategyTest {
    static final int PAGES = 8;
    static final int PERMIT = GrantEntryV1Descriptor.GTF_PERMIT_ACCESS;

    @TempDir
    Path stateDir;
    GrantPoolSim fx;
    int[] refs;

    @BeforeEach
    void start() throws Exception {
        fx = GrantPoolSim.start(stateDir, PAGES);
        refs = fx.pool().refs();
    }

    @AfterEach
    void stop() {
        fx.close();
    }

    RingChannel open(int maxMapped) {
        return new ZeroCopyStrategy(fx.grants(), maxMapped).open(new RingRequest(fx.domid(), "blkif", 112, 16,
                new int[] {fx.pool().ringRef()}, Map.of(ZeroCopyStrategy.FEATURE, "1")));
    }

    @Test
    void servesOnlyRingsWhoseFrontendReusesItsGrants() {
        ZeroCopyStrategy s = new ZeroCopyStrategy(fx.grants(), 16);
        assertThat(s.fitness(new RingRequest(1, "netif-tx", 12, 4, new int[1], Map.of("feature-persistent", "1"))))
                .isEqualTo(ZeroCopyStrategy.FITNESS);
        assertThat(s.fitness(new RingRequest(1, "netif-tx", 12, 4, new int[1], Map.of()))).isNegative();
        assertThat(s.fitness(new RingRequest(1, "blkif", 112, 16, new int[3], Map.of("feature-persistent", "1")))).isNegative();
    }

    /** The guest's own pages, in place: what the guest wrote is read there, what dom0 writes there the guest reads. */
    @Test
    void lendsTheGuestsPagesMappedOnceAndUnmapsThemInOneBatch() throws Exception {
        try (RingChannel ch = open(64)) {
            SegmentIo io = ch.segments();
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < 4; i++) {
                    ByteBuffer page = io.direct(refs[i], 512, 2048, false);
                    for (int off = 0; off < 2048; off++) {
                        if (page.get(off) != pattern(refs[i], 512 + off)) {
                            throw new AssertionError("grant " + refs[i] + " byte " + (512 + off) + " differs");
                        }
                    }
                }
                io.flush();
            }
            ByteBuffer rx = io.direct(refs[5], 0, 4096, true);
            for (int off = 0; off < 4096; off++) {
                rx.put(off, pattern(77, off));
            }
            assertThat(fx.pool().check(refs[5], 77)).as("the guest reads what dom0 wrote in its page").isEqualTo("ok");
            assertThat(fx.pinned()).as("the ring and five kept grants").isEqualTo(6);
            assertThat(fx.pool().flags(refs[5])).isEqualTo(PERMIT | GrantEntryV1Descriptor.GTF_READING
                    | GrantEntryV1Descriptor.GTF_WRITING);
            assertThat(ch.counters()).containsEntry("zero-copy-grants", 5L).containsEntry("zero-copy-maps", 5L)
                    .containsEntry("zero-copy-in-place", 13L).containsEntry("zero-copy-fallback-copies", 0L);
        }
        assertThat(fx.unmapBatches()).as("every kept grant in one batch").containsExactly(5);
        assertThat(fx.pinned()).isZero();
    }

    /**
     * A page granted read-only cannot take an RX frame or a READ in place: no page is lent, the
     * segment falls back to grant copy (counted), and that copy is refused with Xen's code, so
     * only that request fails. The same page still serves a TX read in place, mapped read-only.
     */
    @Test
    void aReadOnlyGrantIsRefusedForWritingAndFallsBackCounted() throws Exception {
        int readOnly = fx.pool().readOnlyRef();
        try (RingChannel ch = open(64)) {
            SegmentIo io = ch.segments();
            assertThat(io.direct(readOnly, 0, 4096, true)).isNull();
            ByteBuffer src = ByteBuffer.allocateDirect(4096);
            assertThat(io.write(src, 0, readOnly, 0, 4096)).isEqualTo(GrantStatus.GENERAL_ERROR.code());
            assertThat(fx.pool().check(readOnly, readOnly)).as("the page is untouched").isEqualTo("ok");
            ByteBuffer tx = io.direct(readOnly, 0, 4096, false);
            assertThat(tx).isNotNull();
            assertThat(tx.isReadOnly()).isTrue();
            assertThat(tx.get(100)).isEqualTo(pattern(readOnly, 100));
            assertThat(io.direct(4000, 0, 64, false)).as("a grant beyond the table").isNull();
            assertThat(io.read(4000, 0, src, 0, 64)).isEqualTo(GrantStatus.BAD_GNTREF.code());
            // One fallback copy per segment copied (not for the refused loans before them); the
            // read-only page refused for writing once, kept read-only; the bad ref refused once.
            assertThat(ch.counters()).containsEntry("zero-copy-fallback-copies", 2L).containsEntry("zero-copy-grants", 1L)
                    .containsEntry("zero-copy-in-place", 1L).containsEntry("zero-copy-map-refusals", 2L)
                    .containsEntry("zero-copy-maps", 1L);
        }
        assertThat(fx.pinned()).isZero();
    }

    @Test
    void pastTheCapSegmentsAreGrantCopiedAndCounted() throws Exception {
        ByteBuffer dst = ByteBuffer.allocateDirect(4096);
        try (RingChannel ch = open(2)) {
            SegmentIo io = ch.segments();
            for (int i = 0; i < 4; i++) {
                assertThat(io.read(refs[i], 0, dst, 0, 4096)).isZero();
                assertThat(dst.get(4095)).isEqualTo(pattern(refs[i], 4095));
            }
            assertThat(io.direct(refs[3], 0, 4096, false)).isNull();
            assertThat(ch.counters()).containsEntry("zero-copy-grants", 2L).containsEntry("zero-copy-memcpy", 2L)
                    .containsEntry("zero-copy-fallback-copies", 2L);
        }
    }
}
