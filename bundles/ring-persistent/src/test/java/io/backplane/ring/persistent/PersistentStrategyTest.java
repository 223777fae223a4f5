package io.backplane.ring.persistent;

import static io.backplane.guest.grantpool.GrantPoolMain.pattern;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.backplane.api.hypervisor.GrantStatus;
import io.backplane.api.ring.PreparedRing;
import io.backplane.api.ring.RingChannel;
import io.backplane.api.ring.RingException;
import io.backplane.api.ring.RingRequest;
import io.backplane.api.ring.SegmentCopy;
import io.backplane.api.ring.SegmentIo;
import io.backplane.guest.grantpool.GrantPoolSim;
import io.backplane.nativeio.NativeIo;
import io.backplane.ring.layout.GrantEntryV1Descriptor;
import io.backplane.ring.layout.GrantRecordDescriptor;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The persistent strategy against the sim, the pages granted by a guest process. */
class PersistentStrategyTest {
    static final int PAGES = 24;
    static final int PERMIT = GrantEntryV1Descriptor.GTF_PERMIT_ACCESS;
    static final int MAPPED_RW = PERMIT | GrantEntryV1Descriptor.GTF_READING | GrantEntryV1Descriptor.GTF_WRITING;
    static final long SECOND = Duration.ofSeconds(1).toNanos();

    @TempDir
    Path stateDir;
    GrantPoolSim fx;
    int[] refs;
    final AtomicLong now = new AtomicLong(1_000 * SECOND);
    final ByteBuffer local = ByteBuffer.allocateDirect(4096 * 8);

    @BeforeEach
    void start() throws Exception {
        fx = GrantPoolSim.start(stateDir, PAGES);
        refs = fx.pool().refs();
    }

    @AfterEach
    void stop() {
        fx.close();
    }

    RingRequest blkif(Map<String, String> features) {
        return new RingRequest(fx.domid(), "blkif", 112, 16, new int[] {fx.pool().ringRef()}, features);
    }

    RingChannel open(PersistentLimits limits) {
        return new PersistentStrategy(fx.grants(), limits, now::get).open(blkif(Map.of("feature-persistent", "1")));
    }

    void assertRead(SegmentIo io, int ref, int offset, int length) {
        assertRead(io, ref, ref, offset, length);
    }

    /** Reads a segment of the page of {@code ref}, which the guest filled with pattern(seed, offset). */
    void assertRead(SegmentIo io, int ref, int seed, int offset, int length) {
        assertThat(io.read(ref, offset, local, 0, length)).as("read of grant %d", ref).isZero();
        for (int i = 0; i < length; i++) {
            if (local.get(i) != pattern(seed, offset + i)) {
                throw new AssertionError("grant " + ref + " byte " + (offset + i) + " differs");
            }
        }
    }

    @Test
    void fitsOnlyRingsThatNegotiatedPersistentGrantsAboveGrantCopy() {
        PersistentStrategy s = new PersistentStrategy(fx.grants(), PersistentLimits.DEFAULTS);
        assertThat(s.fitness(blkif(Map.of("feature-persistent", "1")))).isPositive();
        assertThat(s.fitness(blkif(Map.of("feature-persistent", "0")))).isNegative();
        assertThat(s.fitness(blkif(Map.of()))).isNegative();
        assertThat(s.fitness(new RingRequest(fx.domid(), "blkif", 112, 16, new int[3], Map.of("feature-persistent", "1"))))
                .as("3 ring pages is no ring.h ring").isNegative();
        // A vif's rings: the same promise, the same key (netback writes it into both rings' requests).
        assertThat(s.fitness(new RingRequest(fx.domid(), "netif-tx", 12, 4, new int[2], Map.of("feature-persistent", "1"))))
                .isPositive();
        assertThat(s.fitness(new RingRequest(fx.domid(), "netif-rx", 8, 8, new int[1], Map.of("feature-persistent", "0"))))
                .isNegative();
    }

    @Test
    void mapsEachGrantOnceAndMovesBytesBothWays() throws Exception {
        long guestMappingsBefore = fx.mappingsOfGuestMemory();
        try (RingChannel ch = open(PersistentLimits.DEFAULTS)) {
            assertThat(ch.strategy()).isEqualTo("persistent");
            assertThat(ch.geometry().entries()).isEqualTo(32);
            SegmentIo io = ch.segments();
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < 8; i++) {
                    assertRead(io, refs[i], 0, 4096);
                    assertRead(io, refs[i], 512 * (i % 8), 512); // one sector, as blkif segments go
                }
                io.flush();
            }
            // blkback READ: dom0 writes the guest's page; the guest finds every byte.
            ByteBuffer src = ByteBuffer.allocateDirect(4096);
            for (int off = 0; off < 4096; off++) {
                src.put(off, pattern(777, off));
            }
            assertThat(io.write(src, 0, refs[9], 0, 4096)).isZero();
            assertThat(fx.pool().check(refs[9], 777)).isEqualTo("ok");
            assertThat(io.write(src, 100, refs[9], 100, 50)).isZero();
            // The guest changes the page behind the persistent mapping: dom0 reads the new bytes.
            fx.pool().fill(refs[0], refs[0]);
            assertRead(io, refs[0], 0, 4096);

            Map<String, Long> c = ch.counters();
            assertThat(c).containsEntry("persistent-maps", 9L).containsEntry("persistent-grants", 9L)
                    .containsEntry("persistent-hits", 3 * 16L - 8 + 2)
                    .containsEntry("persistent-fallback-copies", 0L);
            assertThat(fx.pinned()).as("ring page and nine persistent grants").isEqualTo(10);
            assertThat(fx.pool().flags(refs[0])).isEqualTo(MAPPED_RW);
            assertThat(fx.pool().revoke(refs[0])).as("the guest cannot end access while persistent").isFalse();
            assertThat(fx.mappingsOfGuestMemory()).isEqualTo(guestMappingsBefore + 10);
        }
        assertThat(fx.pinned()).as("close unmaps everything").isZero();
        assertThat(fx.pool().flags(refs[0])).isEqualTo(PERMIT);
        assertThat(fx.mappingsOfGuestMemory()).isEqualTo(guestMappingsBefore);
        assertThat(fx.unmapBatches()).as("close unmaps the nine grants in one batch").containsExactly(9);
    }

    @Test
    void directAddressesAreThePersistentPagesThemselves() throws Exception {
        NativeIo nio = new NativeIo();
        try (RingChannel ch = open(PersistentLimits.DEFAULTS)) {
            SegmentIo io = ch.segments();
            long page = io.directAddress(refs[3], 0, 4096, false);
            assertThat(page).isNotZero();
            assertThat(io.directAddress(refs[3], 1024, 512, true)).isEqualTo(page + 1024);
            assertThat(nio.address(io.direct(refs[3], 512, 512, false))).as("the view's memory").isEqualTo(page + 512);
            ByteBuffer at = nio.buffer(page, 4096);
            for (int i = 0; i < 4096; i++) {
                if (at.get(i) != pattern(refs[3], i)) {
                    throw new AssertionError("byte " + i + " at the address differs from the guest's page");
                }
            }
            // dom0 writes through the address (a blkback READ's preadv); the guest sees it
            ByteBuffer to = nio.buffer(io.directAddress(refs[4], 0, 4096, true), 4096);
            for (int i = 0; i < 4096; i++) {
                to.put(i, pattern(4444, i));
            }
            assertThat(fx.pool().check(refs[4], 4444)).isEqualTo("ok");
            assertThat(io.directAddress(refs[3], 4000, 200, false)).as("crosses the page").isZero();
            assertThat(io.directAddress(refs[3], 0, 0, false)).isZero();
            assertThat(ch.counters()).containsEntry("persistent-maps", 2L).containsEntry("persistent-hits", 2L);
        }
    }

    @Test
    void aPreparedRequestsNewGrantsAreMappedInOneMapAndUnmappedWithTheLastOfThem() throws Exception {
        long guestMappingsBefore = fx.mappingsOfGuestMemory();
        try (RingChannel ch = open(PersistentLimits.DEFAULTS)) {
            SegmentIo io = ch.segments();
            assertRead(io, refs[0], 0, 4096);                 // mapped alone before the request
            int[] request = {refs[0], refs[1], refs[2], refs[2], refs[3], refs[4]};
            io.prepare(request, request.length, false);
            for (int r : request) {
                assertThat(io.directAddress(r, 0, 4096, true)).isNotZero();
            }
            for (int i = 1; i <= 4; i++) {
                assertRead(io, refs[i], 0, 4096);
            }
            assertThat(fx.mappingsOfGuestMemory()).as("ring, refs[0] alone, refs[1..4] in one map")
                    .isEqualTo(guestMappingsBefore + 3);
            assertThat(ch.counters()).containsEntry("persistent-maps", 5L).containsEntry("persistent-grants", 5L)
                    .containsEntry("persistent-map-calls", 2L);
            assertThat(fx.pinned()).isEqualTo(6);

            // refs[1] and refs[2] go unused past the limit: their batch stays mapped for refs[3], refs[4]
            io.flush();
            now.addAndGet(61 * SECOND);
            assertRead(io, refs[3], 0, 16);
            assertRead(io, refs[4], 0, 16);
            assertRead(io, refs[0], 0, 16);
            io.flush();
            assertThat(ch.counters()).containsEntry("persistent-grants", 3L).containsEntry("persistent-purged", 2L);
            assertThat(fx.pinned()).as("nothing of the batch unmapped yet").isEqualTo(6);
            io.flush();
            now.addAndGet(61 * SECOND);
            assertRead(io, refs[0], 0, 16);
            io.flush();
            assertThat(ch.counters()).containsEntry("persistent-grants", 1L).containsEntry("persistent-purged", 4L);
            assertThat(fx.pinned()).as("ring page and refs[0]").isEqualTo(2);
            assertThat(fx.pool().flags(refs[1])).isEqualTo(PERMIT);
        }
        assertThat(fx.pinned()).isZero();
        assertThat(fx.mappingsOfGuestMemory()).isEqualTo(guestMappingsBefore);
    }

    /**
     * A standby's preparation: the owner's data path records the grants it holds as they come and
     * go; a standby maps the ring and those grants beside it (Xen lets both map them), keeping them
     * mapped after the owner unmaps; at the claim the record, read again, maps only what the owner
     * mapped since, in one call, and lets go of what it purged; the adopter's channel serves from
     * them with no map call and records them in its own file.
     */
    @Test
    void aStandbyHoldsWhatTheOwnerRecordedAndMapsOnlyWhatIsNewAtTheClaim() throws Exception {
        Path ownerRecord = stateDir.resolve("owner-queue-0.grants");
        Path moved = stateDir.resolve("adopter-queue-0.grants");
        PersistentStrategy strategy = new PersistentStrategy(fx.grants(), PersistentLimits.DEFAULTS, now::get);
        RingRequest request = blkif(Map.of("feature-persistent", "1"));
        PreparedRing held;
        try (RingChannel owner = strategy.open(request)) {
            SegmentIo io = owner.segments();
            io.recordGrants(ownerRecord);
            for (int i = 0; i < 4; i++) {
                assertRead(io, refs[i], 0, 4096);
            }
            io.flush();
            assertThat(GrantRecord.read(ownerRecord, fx.domid())).containsExactlyInAnyOrder(refs[0], refs[1], refs[2], refs[3]);
            held = strategy.prepare(request, ownerRecord);
            assertThat(held.ringPages()).isEqualTo(1);
            assertThat(held.grants()).isEqualTo(4);
            now.addAndGet(61 * SECOND);
            for (int i : new int[] {0, 2, 3, 4}) {
                assertRead(io, refs[i], 0, 16);
            }
            io.flush();                                      // refs[1] purged, refs[4] new
            assertThat(GrantRecord.read(ownerRecord, fx.domid())).containsExactlyInAnyOrder(refs[0], refs[2], refs[3], refs[4]);
        }                                                    // the owner unmapped all it held
        assertThat(fx.pinned()).as("the standby's ring page and four grants").isEqualTo(5);
        java.nio.file.Files.move(ownerRecord, moved);        // what the claim does with the owner's files
        assertThat(held.refresh(moved)).isEqualTo(new PreparedRing.Refresh(3, 1, 1, 1));
        try (RingChannel adopter = strategy.open(request, held)) {
            SegmentIo io = adopter.segments();
            io.recordGrants(moved);
            assertThat(GrantRecord.read(moved, fx.domid())).containsExactlyInAnyOrder(refs[0], refs[2], refs[3], refs[4]);
            for (int i : new int[] {0, 2, 3, 4}) {
                assertRead(io, refs[i], 0, 4096);
            }
            held.close();                                    // taken over: closing it releases nothing
            assertRead(io, refs[0], 0, 4096);
            assertThat(adopter.counters()).containsEntry("persistent-map-calls", 0L).containsEntry("persistent-hits", 5L)
                    .containsEntry("prepared-ring-pages", 1L).containsEntry("persistent-prepared", 3L)
                    .containsEntry("persistent-claim-maps", 1L).containsEntry("persistent-claim-map-calls", 1L)
                    .containsEntry("persistent-claim-dropped", 1L).containsEntry("persistent-grants", 4L);
        }
        assertThat(fx.pinned()).isZero();
    }

    /**
     * A preparation that is not adopted unmaps everything it held when closed (twice is once); a
     * reference a kill left in two slots of the record is mapped once; at a claim that finds no
     * record every grant held is let go of, the ring stays.
     */
    @Test
    void aPreparationNotAdoptedLeavesNothingMapped() throws Exception {
        Path record = stateDir.resolve("queue-0.grants");
        PersistentStrategy strategy = new PersistentStrategy(fx.grants(), PersistentLimits.DEFAULTS, now::get);
        RingRequest request = blkif(Map.of("feature-persistent", "1"));
        try (RingChannel owner = strategy.open(request)) {
            owner.segments().recordGrants(record);
            for (int i = 0; i < 3; i++) {
                assertRead(owner.segments(), refs[i], 0, 16);
            }
        }
        duplicateLastSlot(record);                           // a kill in the middle of a removal
        PreparedRing held = strategy.prepare(request, record);
        assertThat(held.grants()).isEqualTo(3);
        assertThat(fx.pinned()).isEqualTo(4);
        held.close();
        held.close();
        assertThat(fx.pinned()).isZero();
        PreparedRing again = strategy.prepare(request, record);
        assertThat(again.refresh(stateDir.resolve("none.grants"))).isEqualTo(new PreparedRing.Refresh(0, 0, 0, 3));
        assertThat(fx.pinned()).as("the ring page alone").isEqualTo(1);
        again.close();
        assertThat(fx.pinned()).isZero();
    }

    /** What a process killed between a removal's two stores leaves: the last slot's reference in the next slot too. */
    static void duplicateLastSlot(Path record) throws Exception {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(record,
                java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE)) {
            ByteBuffer b = ch.map(java.nio.channels.FileChannel.MapMode.READ_WRITE, 0, ch.size())
                    .order(java.nio.ByteOrder.LITTLE_ENDIAN);
            int count = b.getInt(GrantRecordDescriptor.COUNT_OFFSET);
            int last = GrantRecordDescriptor.REFS_OFFSET + (count - 1) * GrantRecordDescriptor.REF_LENGTH;
            b.putInt(last + GrantRecordDescriptor.REF_LENGTH, b.getInt(last));
            b.putInt(GrantRecordDescriptor.COUNT_OFFSET, count + 1);
        }
    }

    @Test
    void grantsComeAndGoThroughTheIndexWithoutLosingOne() throws Exception {
        // A cap of 5 over 24 grants used in a shifting window: every purge takes grants out of
        // the middle of the index's probe chains, and every grant still mapped must be found.
        try (RingChannel ch = open(new PersistentLimits(5, Duration.ofSeconds(60), Duration.ofMillis(100)))) {
            SegmentIo io = ch.segments();
            for (int round = 0; round < 40; round++) {
                for (int k = 0; k < 7; k++) {
                    assertRead(io, refs[(round * 3 + k) % PAGES], 0, 4096);
                }
                now.addAndGet(SECOND);
                io.flush();
            }
            Map<String, Long> c = ch.counters();
            assertThat(c.get("persistent-grants")).isBetween(1L, 5L);
            assertThat(c.get("persistent-maps") - c.get("persistent-purged")).isEqualTo(c.get("persistent-grants"));
            assertThat(fx.pinned()).as("ring page and the grants kept").isEqualTo(1 + c.get("persistent-grants"));
        }
        assertThat(fx.pinned()).as("close unmaps everything").isZero();
    }

    @Test
    void aBatchWithARefusedGrantMapsNothingAndEachGrantGetsItsOwnAnswer() {
        int readOnly = fx.pool().readOnlyRef();
        try (RingChannel ch = open(PersistentLimits.DEFAULTS)) {
            SegmentIo io = ch.segments();
            io.prepare(new int[] {refs[0], readOnly, refs[1]}, 3, true);
            assertThat(io.direct(refs[0], 0, 512, true)).as("mapped alone after the batch was refused").isNotNull();
            assertThat(io.direct(readOnly, 0, 512, true)).as("granted read-only: copied, not written through a view").isNull();
            assertRead(io, readOnly, 0, 4096);
        }
        assertThat(fx.pinned()).isZero();
    }

    @Test
    void grantsUnusedLongerThanTheLimitArePurgedInOneBatch() throws Exception {
        try (RingChannel ch = open(new PersistentLimits(1056, Duration.ofSeconds(60), Duration.ofMillis(100)))) {
            SegmentIo io = ch.segments();
            for (int i = 0; i < 3; i++) {
                assertRead(io, refs[i], 0, 64);
            }
            io.flush(); // the end of a batch: the next one is stamped with its own time
            now.addAndGet(30 * SECOND);
            assertRead(io, refs[3], 0, 64);
            assertRead(io, refs[0], 0, 64); // refs[0] used again: young
            io.flush();
            assertThat(fx.unmapBatches()).as("nothing is 60 s old yet").isEmpty();

            now.addAndGet(31 * SECOND);
            long before = fx.mappingsOfGuestMemory();
            io.flush();
            assertThat(fx.unmapBatches()).as("refs[1] and refs[2], in one batch").containsExactly(2);
            assertThat(fx.pool().flags(refs[1])).isEqualTo(PERMIT);
            assertThat(fx.pool().flags(refs[2])).isEqualTo(PERMIT);
            assertThat(fx.pool().flags(refs[0])).isEqualTo(MAPPED_RW);
            assertThat(fx.pool().flags(refs[3])).isEqualTo(MAPPED_RW);
            assertThat(fx.mappingsOfGuestMemory()).isEqualTo(before - 2);
            assertThat(ch.counters()).containsEntry("persistent-purged", 2L).containsEntry("persistent-grants", 2L);

            // A purged grant that comes back is mapped afresh.
            assertRead(io, refs[1], 0, 4096);
            assertThat(ch.counters()).containsEntry("persistent-maps", 5L);
            assertThat(fx.pool().flags(refs[1])).isEqualTo(MAPPED_RW);
        }
    }

    @Test
    void purgeWaitsForTheInterval() {
        try (RingChannel ch = open(new PersistentLimits(1056, Duration.ofSeconds(1), Duration.ofSeconds(10)))) {
            SegmentIo io = ch.segments();
            assertRead(io, refs[0], 0, 64);
            now.addAndGet(5 * SECOND);
            io.flush();
            assertThat(fx.unmapBatches()).as("the purge interval has not passed").isEmpty();
            now.addAndGet(6 * SECOND);
            io.flush();
            assertThat(fx.unmapBatches()).containsExactly(1);
        }
    }

    @Test
    void beyondTheCapSegmentsAreCopiedAndAFullCacheIsCleanedLeastRecentlyUsedFirst() throws Exception {
        try (RingChannel ch = open(new PersistentLimits(4, Duration.ofSeconds(60), Duration.ofMillis(100)))) {
            SegmentIo io = ch.segments();
            for (int i = 0; i < 6; i++) {
                assertRead(io, refs[i], 0, 4096);
            }
            assertThat(fx.pinned()).as("ring page and the cap of four").isEqualTo(5);
            assertThat(fx.pool().flags(refs[5])).as("copied, not kept").isEqualTo(PERMIT);
            ByteBuffer src = ByteBuffer.allocateDirect(4096);
            for (int off = 0; off < 4096; off++) {
                src.put(off, pattern(4242, off));
            }
            assertThat(io.write(src, 0, refs[5], 0, 4096)).isZero();
            assertThat(fx.pool().check(refs[5], 4242)).isEqualTo("ok");
            assertThat(ch.counters()).containsEntry("persistent-grants", 4L).containsEntry("persistent-fallback-copies", 3L);

            assertRead(io, refs[0], 0, 16); // refs[1] is now the least recently used
            now.addAndGet(SECOND);
            io.flush();
            assertThat(fx.unmapBatches()).containsExactly(1);
            assertThat(fx.pool().flags(refs[1])).isEqualTo(PERMIT);
            assertThat(fx.pool().flags(refs[0])).isEqualTo(MAPPED_RW);
            assertRead(io, refs[5], 4242, 0, 4096);
            assertThat(fx.pool().flags(refs[5])).as("room again: the new grant is kept").isEqualTo(MAPPED_RW);
            assertThat(ch.counters()).containsEntry("persistent-maps", 5L).containsEntry("persistent-purged", 1L);
        }
    }

    @Test
    void aRefusedGrantFailsOnlyItsSegment() throws Exception {
        int readOnly = fx.pool().readOnlyRef();
        ByteBuffer dst = ByteBuffer.allocateDirect(4 * 4096);
        try (RingChannel ch = open(PersistentLimits.DEFAULTS)) {
            SegmentIo io = ch.segments();
            int[] status = new int[6];
            io.copy(List.of(
                    SegmentCopy.fromGuest(refs[0], 0, dst, 0, 4096),
                    SegmentCopy.fromGuest(4000, 0, dst, 4096, 4096),
                    SegmentCopy.fromGuest(readOnly, 0, dst, 8192, 4096),
                    SegmentCopy.toGuest(dst, 0, readOnly, 0, 512),
                    SegmentCopy.fromGuest(refs[1], 4000, dst, 0, 512),
                    SegmentCopy.fromGuest(refs[2], 0, dst, 12288, 4096)), status);
            assertThat(status).containsExactly(0, GrantStatus.BAD_GNTREF.code(), 0, GrantStatus.GENERAL_ERROR.code(),
                    GrantStatus.BAD_COPY_ARG.code(), 0);
            for (int off = 0; off < 4096; off++) {
                assertThat(dst.get(8192 + off)).as("read-only grant").isEqualTo(pattern(readOnly, off));
                assertThat(dst.get(12288 + off)).isEqualTo(pattern(refs[2], off));
            }
            assertThat(fx.pool().check(readOnly, readOnly)).as("the refused write left the page alone").isEqualTo("ok");
            assertThat(fx.pool().flags(readOnly)).as("a read-only grant is kept read-only")
                    .isEqualTo(PERMIT | GrantEntryV1Descriptor.GTF_READONLY | GrantEntryV1Descriptor.GTF_READING);
            assertThat(ch.counters()).containsEntry("persistent-grants", 3L).containsEntry("persistent-map-refusals", 1L);
            assertRead(io, readOnly, 0, 4096);
            assertThat(ch.counters()).as("the read-only grant is reused").containsEntry("persistent-maps", 3L);
        }
        assertThat(fx.pinned()).isZero();
    }

    @Test
    void aRefusedRingGrantLeavesNothingMapped() {
        PersistentStrategy s = new PersistentStrategy(fx.grants(), PersistentLimits.DEFAULTS);
        RingRequest bad = new RingRequest(fx.domid(), "blkif", 112, 16, new int[] {fx.pool().readOnlyRef()},
                Map.of("feature-persistent", "1"));
        assertThatThrownBy(() -> s.open(bad)).isInstanceOf(RingException.class)
                .hasMessageContaining("cannot map the blkif ring of domain " + fx.domid()).hasMessageContaining("GNTST_general_error");
        assertThat(fx.pinned()).isZero();
    }
}
