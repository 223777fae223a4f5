package io.backplane.hypervisor.sim;

import static io.backplane.ring.layout.GrantEntryV1Descriptor.FRAME_OFFSET;
import static io.backplane.ring.layout.GrantEntryV1Descriptor.LENGTH;

import io.backplane.ring.layout.GrantEntryV1Descriptor;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A domain's v1 grant table as the hypervisor touches it: the shared mapping of the
 * {@code grant-table} file, {@code struct grant_entry_v1 { u16 flags; u16 domid; u32 frame; }}
 * (layout: ring-core's {@link GrantEntryV1Descriptor}).
 * Flags and domid are read and updated together as one little-endian 32-bit word with
 * compare-and-set, as Xen's {@code union grant_combo} and {@code guest_cmpxchg} do, because the
 * guest may rewrite the entry at any moment.
 */
final class GrantEntries {
    private static final VarHandle INT = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    private final ByteBuffer table;
    private final int entries;

    GrantEntries(ByteBuffer table) {
        this.table = table;
        this.entries = table.capacity() / LENGTH;
    }

    int entries() {
        return entries;
    }

    /** flags in bits 0-15, domid in bits 16-31: one atomic read of the entry's header. */
    int header(int ref) {
        return (int) INT.getVolatile(table, ref * LENGTH);
    }

    boolean compareAndSetHeader(int ref, int expected, int update) {
        return INT.compareAndSet(table, ref * LENGTH, expected, update);
    }

    /** The frame, read once (the guest may change it; Xen reads it once after pinning). */
    long frame(int ref) {
        return Integer.toUnsignedLong((int) INT.getVolatile(table, ref * LENGTH + FRAME_OFFSET));
    }

    /** Atomically clears flag bits ({@code gnttab_clear_flags}), whatever the guest does meanwhile. */
    void clearFlags(int ref, int bits) {
        int offset = ref * LENGTH;
        int old;
        do {
            old = (int) INT.getVolatile(table, offset);
        } while (!INT.compareAndSet(table, offset, old, old & ~bits));
    }

    static int flags(int header) {
        return header & 0xFFFF;
    }

    static int domid(int header) {
        return header >>> 16;
    }
}
