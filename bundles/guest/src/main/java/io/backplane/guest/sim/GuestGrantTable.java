package io.backplane.guest.sim;

import io.backplane.ring.layout.GrantEntryV1Descriptor;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.BitSet;

/**
 * The guest's side of its v1 grant table (its {@code grant-table} file, mapped shared), used the
 * way Linux's grant-table.c uses it: fill {@code frame} and {@code domid}, then publish
 * {@code flags} with a release store (the {@code wmb()} before the flags); end access with a
 * compare-and-set that fails while the hypervisor has the entry GTF_reading / GTF_writing.
 * References 0-7 are reserved (GNTTAB_NR_RESERVED_ENTRIES) and never allocated.
 */
public final class GuestGrantTable {
    public static final int GTF_PERMIT_ACCESS = GrantEntryV1Descriptor.GTF_PERMIT_ACCESS;
    public static final int GTF_READONLY = GrantEntryV1Descriptor.GTF_READONLY;
    public static final int GTF_READING = GrantEntryV1Descriptor.GTF_READING;
    public static final int GTF_WRITING = GrantEntryV1Descriptor.GTF_WRITING;
    public static final int RESERVED_ENTRIES = GrantEntryV1Descriptor.GNTTAB_NR_RESERVED_ENTRIES;
    private static final int ENTRY = GrantEntryV1Descriptor.LENGTH;

    private static final VarHandle SHORT = MethodHandles.byteBufferViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    private final io.backplane.nativeio.MemoryMapping mapping;
    private final ByteBuffer table;
    private final int entries;
    private final BitSet used;

    GuestGrantTable(io.backplane.nativeio.MemoryMapping mapping) {
        this.mapping = mapping;
        this.table = mapping.buffer();
        this.entries = table.capacity() / ENTRY;
        this.used = new BitSet(entries);
        used.set(0, RESERVED_ENTRIES);
    }

    /** Number of entries (grant references 0 .. entries-1). */
    public int entries() {
        return entries;
    }

    /** gnttab_grant_foreign_access: lets {@code domid} use {@code frame}; returns the new reference. */
    public int grantAccess(int domid, long frame, boolean readonly) {
        int ref;
        synchronized (used) {
            ref = used.nextClearBit(RESERVED_ENTRIES);
            if (ref >= entries) {
                throw new IllegalStateException("grant table full: all " + entries + " references in use");
            }
            used.set(ref);
        }
        writeEntry(ref, GTF_PERMIT_ACCESS | (readonly ? GTF_READONLY : 0), domid, frame);
        return ref;
    }

    /**
     * Writes an entry exactly as given (any flags, domid and frame): what a guest kernel may do,
     * including the bogus entries the hypervisor must refuse. Frame and domid first, flags last.
     */
    public void writeEntry(int ref, int flags, int domid, long frame) {
        int off = ref * ENTRY;
        table.putInt(off + GrantEntryV1Descriptor.FRAME_OFFSET, (int) frame);
        table.putShort(off + GrantEntryV1Descriptor.DOMID_OFFSET, (short) domid);
        SHORT.setRelease(table, off, (short) flags); // wmb(); shared[ref].flags = flags
    }

    /**
     * gnttab_end_foreign_access_ref: revokes the grant unless the grantee has it mapped
     * (GTF_reading / GTF_writing); returns false then, and the entry stays.
     */
    public boolean endAccess(int ref) {
        int off = ref * ENTRY;
        while (true) {
            int header = (int) INT.getVolatile(table, off);
            if ((header & (GTF_READING | GTF_WRITING)) != 0) {
                return false;
            }
            // Clear the flags, keep the domid: one cmpxchg on the 32-bit header, as Xen updates it.
            if (INT.compareAndSet(table, off, header, header & 0xFFFF0000)) {
                return true;
            }
        }
    }

    /** Ends access and frees the reference; false (nothing freed) while the grantee maps it. */
    public boolean release(int ref) {
        if (!endAccess(ref)) {
            return false;
        }
        synchronized (used) {
            used.clear(ref);
        }
        return true;
    }

    /** The entry's current flags (GTF_*), as the hypervisor last left them. */
    public int flags(int ref) {
        return (short) SHORT.getVolatile(table, ref * ENTRY) & 0xFFFF;
    }

    void close() {
        mapping.close();
    }
}
