package io.backplane.hypervisor.sim;

import static io.backplane.guest.sim.GuestGrantTable.GTF_PERMIT_ACCESS;
import static io.backplane.guest.sim.GuestGrantTable.GTF_READING;
import static io.backplane.guest.sim.GuestGrantTable.GTF_READONLY;
import static io.backplane.guest.sim.GuestGrantTable.GTF_WRITING;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.backplane.api.hypervisor.GrantException;
import io.backplane.api.hypervisor.GrantMapping;
import io.backplane.api.hypervisor.GrantStatus;
import io.backplane.api.hypervisor.HypervisorException;
import io.backplane.api.hypervisor.MappedRegion;
import io.backplane.guest.sim.GuestGrantTable;
import io.backplane.guest.sim.SimGuest;
import io.backplane.nativeio.NativeIo;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Grant mapping against a guest's real grant table file, checked as Xen checks it: every bogus
 * entry refused with Xen's GNTST code, GTF_reading/GTF_writing set while mapped, dom0 unharmed.
 */
class GrantMapTest {
    static final int PAGES = 64;
    @TempDir
    static Path dir;
    static SimFixture fx;
    static SimGuest guest;
    static int domid;

    @BeforeAll
    static void start() throws Exception {
        fx = new SimFixture(new NativeIo(), dir);
        domid = fx.create("grants", PAGES).domid();
        guest = fx.attach(domid);
    }

    @AfterAll
    static void stop() {
        guest.close();
        fx.close();
    }

    @Test
    void writableMapSharesThePageBothWaysAndMarksTheEntry() throws Exception {
        long frame = guest.memory().allocPage();
        int ref = guest.grants().grantAccess(0, frame, false);
        ByteBuffer guestView = guest.memory().page(frame);
        guestView.putLong(16, 0x0123456789ABCDEFL);
        long before = fx.mappingsOfStateDir();
        try (GrantMapping m = fx.sim.map(domid, new int[] {ref}, true)) {
            assertThat(m.buffer().isDirect()).isTrue();
            assertThat(m.buffer().getLong(16)).isEqualTo(0x0123456789ABCDEFL);
            m.buffer().putInt(100, 4242);
            assertThat(guestView.getInt(100)).isEqualTo(4242);
            assertThat(guest.grants().flags(ref)).isEqualTo(GTF_PERMIT_ACCESS | GTF_READING | GTF_WRITING);
            assertThat(guest.grants().endAccess(ref)).as("end access while mapped").isFalse();
            assertThat(fx.mappingsOfStateDir()).as("a real mmap of the memory file").isEqualTo(before + 1);
        }
        assertThat(guest.grants().flags(ref)).isEqualTo(GTF_PERMIT_ACCESS);
        assertThat(fx.mappingsOfStateDir()).isEqualTo(before);
        assertThat(fx.sim.pinnedGrants(domid)).isZero();
        assertThat(guest.grants().release(ref)).isTrue();
    }

    @Test
    void batchMapsScatteredFramesInRefOrder() {
        long a = guest.memory().allocPage();
        long b = guest.memory().allocPage();
        long c = guest.memory().allocPage();
        int[] refs = {guest.grants().grantAccess(0, c, true), guest.grants().grantAccess(0, a, true),
                guest.grants().grantAccess(0, b, true)};
        guest.memory().page(a).putInt(0, 0xA);
        guest.memory().page(b).putInt(0, 0xB);
        guest.memory().page(c).putInt(0, 0xC);
        try (GrantMapping m = fx.sim.map(domid, refs, false)) {
            ByteBuffer buf = m.buffer();
            assertThat(buf.isReadOnly()).isTrue();
            assertThat(new int[] {buf.getInt(0), buf.getInt(4096), buf.getInt(8192)}).containsExactly(0xC, 0xA, 0xB);
            assertThat(guest.grants().flags(refs[0])).isEqualTo(GTF_PERMIT_ACCESS | GTF_READONLY | GTF_READING);
        }
        for (int r : refs) {
            assertThat(guest.grants().flags(r)).isEqualTo(GTF_PERMIT_ACCESS | GTF_READONLY);
        }
    }

    @Test
    void bogusGrantsAreRefusedWithXensCodesAndDom0KeepsWorking() {
        long frame = guest.memory().allocPage();
        int wrongDomid = guest.grants().grantAccess(7, frame, false);
        int readOnly = guest.grants().grantAccess(0, frame, true);
        int outOfRange = guest.grants().grantAccess(0, PAGES + 5, false);
        int noPermit = guest.grants().grantAccess(0, frame, false);
        guest.grants().writeEntry(noPermit, 0, 0, frame);
        int subPage = guest.grants().grantAccess(0, frame, false);
        guest.grants().writeEntry(subPage, GTF_PERMIT_ACCESS | (1 << 8), 0, frame);

        assertRefused(wrongDomid, true, GrantStatus.GENERAL_ERROR);
        assertRefused(readOnly, true, GrantStatus.GENERAL_ERROR);
        assertRefused(outOfRange, true, GrantStatus.BAD_PAGE);
        assertRefused(outOfRange, false, GrantStatus.BAD_PAGE);
        assertRefused(noPermit, false, GrantStatus.GENERAL_ERROR);
        assertRefused(subPage, false, GrantStatus.GENERAL_ERROR);
        assertRefused(guest.grants().entries(), false, GrantStatus.BAD_GNTREF);
        assertRefused(-1, false, GrantStatus.BAD_GNTREF);
        assertThatThrownBy(() -> fx.sim.map(999, new int[] {8}, false))
                .isInstanceOfSatisfying(GrantException.class, e -> assertThat(e.status()).isEqualTo(GrantStatus.BAD_DOMAIN));

        // A refused map leaves no flag behind: the out-of-range entry was pinned, then cleared.
        assertThat(guest.grants().flags(outOfRange)).isEqualTo(GTF_PERMIT_ACCESS);
        assertThat(guest.grants().flags(readOnly)).isEqualTo(GTF_PERMIT_ACCESS | GTF_READONLY);

        // All or nothing: a batch whose last grant is bad releases the good ones.
        int good = guest.grants().grantAccess(0, frame, false);
        assertThatThrownBy(() -> fx.sim.map(domid, new int[] {good, wrongDomid}, true))
                .isInstanceOfSatisfying(GrantException.class, e -> {
                    assertThat(e.status()).isEqualTo(GrantStatus.GENERAL_ERROR);
                    assertThat(e.ref()).isEqualTo(wrongDomid);
                });
        assertThat(guest.grants().flags(good)).isEqualTo(GTF_PERMIT_ACCESS);
        assertThat(fx.sim.pinnedGrants(domid)).isZero();

        // dom0 still maps good grants, read-only grants read-only.
        try (GrantMapping m = fx.sim.map(domid, new int[] {good, readOnly}, false)) {
            assertThat(m.pages()).isEqualTo(2);
        }
        try (GrantMapping m = fx.sim.map(domid, new int[] {readOnly}, false)) {
            assertThat(m.buffer().isReadOnly()).isTrue();
        }
    }

    /**
     * The batched unmap: twelve mappings made one at a time (one of them already closed, one
     * handed over twice, two pins of one reference) go in one call; every entry the guest
     * shared is free again (the guest can end its access), and nothing of its memory stays mapped.
     */
    @Test
    void aBatchOfMappingsIsUnmappedInOneCallAndEveryEntryIsFreedOnce() throws Exception {
        long before = fx.mappingsOfStateDir();
        int[] refs = new int[10];
        java.util.List<GrantMapping> batch = new java.util.ArrayList<>();
        for (int i = 0; i < refs.length; i++) {
            long frame = guest.memory().allocPage();
            guest.memory().page(frame).putInt(0, 500 + i);
            refs[i] = guest.grants().grantAccess(0, frame, i % 2 == 0);
            GrantMapping m = fx.sim.map(domid, new int[] {refs[i]}, i % 2 != 0);
            assertThat(m.buffer().getInt(0)).isEqualTo(500 + i);
            batch.add(m);
        }
        GrantMapping second = fx.sim.map(domid, new int[] {refs[1]}, false); // refs[1] pinned twice
        batch.add(second);
        batch.add(batch.get(3));
        batch.get(5).close();
        assertThat(guest.grants().endAccess(refs[1])).as("end access while mapped").isFalse();
        assertThat(fx.sim.pinnedGrants(domid)).isEqualTo(refs.length - 1);

        fx.sim.unmap(batch);
        assertThat(fx.sim.pinnedGrants(domid)).isZero();
        assertThat(fx.mappingsOfStateDir()).as("every mapping of the memory file gone").isEqualTo(before);
        for (int i = 0; i < refs.length; i++) {
            assertThat(guest.grants().flags(refs[i])).isEqualTo(GTF_PERMIT_ACCESS | (i % 2 == 0 ? GTF_READONLY : 0));
        }
        fx.sim.unmap(batch);                         // again: nothing is unpinned twice
        GrantMapping again = fx.sim.map(domid, new int[] {refs[0]}, false);
        assertThat(guest.grants().flags(refs[0])).isEqualTo(GTF_PERMIT_ACCESS | GTF_READONLY | GTF_READING);
        fx.sim.unmap(java.util.List.of(again));
        for (int ref : refs) {
            assertThat(guest.grants().endAccess(ref)).isTrue();
        }
    }

    @Test
    void pinsAreCountedAndTheFrameIsCapturedAtTheFirstMap() {
        long frame = guest.memory().allocPage();
        long other = guest.memory().allocPage();
        guest.memory().page(frame).putInt(0, 1);
        guest.memory().page(other).putInt(0, 2);
        int ref = guest.grants().grantAccess(0, frame, false);
        GrantMapping reader = fx.sim.map(domid, new int[] {ref}, false);
        assertThat(guest.grants().flags(ref)).isEqualTo(GTF_PERMIT_ACCESS | GTF_READING);
        guest.grants().writeEntry(ref, GTF_PERMIT_ACCESS, 0, other); // a guest rewriting an entry in use
        GrantMapping writer = fx.sim.map(domid, new int[] {ref}, true);
        assertThat(writer.buffer().getInt(0)).as("same frame as the first pin").isEqualTo(1);
        assertThat(guest.grants().flags(ref)).isEqualTo(GTF_PERMIT_ACCESS | GTF_READING | GTF_WRITING);
        writer.close();
        assertThat(guest.grants().flags(ref)).isEqualTo(GTF_PERMIT_ACCESS | GTF_READING);
        reader.close();
        assertThat(guest.grants().flags(ref)).isEqualTo(GTF_PERMIT_ACCESS);
    }

    @Test
    void foreignMemoryMapsFramesByNumberForThePrivilegedToolstack() {
        long frame = guest.memory().allocPage();
        guest.memory().page(frame).putLong(8, 0x5EEDL);
        try (MappedRegion r = fx.sim.map(domid, new long[] {frame, frame}, false)) {
            assertThat(r.pages()).isEqualTo(2);
            assertThat(r.buffer().getLong(8)).isEqualTo(0x5EEDL);
            assertThat(r.buffer().getLong(4096 + 8)).isEqualTo(0x5EEDL);
        }
        assertThatThrownBy(() -> fx.sim.map(domid, new long[] {PAGES}, false))
                .isInstanceOfSatisfying(HypervisorException.class, e -> assertThat(e.errno()).isEqualTo("EINVAL"));
        assertThatThrownBy(() -> fx.sim.map(4321, new long[] {0}, false))
                .isInstanceOfSatisfying(HypervisorException.class, e -> assertThat(e.errno()).isEqualTo("ESRCH"));
    }

    private static void assertRefused(int ref, boolean writable, GrantStatus expected) {
        assertThatThrownBy(() -> fx.sim.map(domid, new int[] {ref}, writable))
                .isInstanceOfSatisfying(GrantException.class, e -> {
                    assertThat(e.status()).isEqualTo(expected);
                    assertThat(e.domid()).isEqualTo(domid);
                    assertThat(e.ref()).isEqualTo(ref);
                });
    }
}
