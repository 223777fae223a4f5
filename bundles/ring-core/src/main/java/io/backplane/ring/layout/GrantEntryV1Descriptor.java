package io.backplane.ring.layout;

/**
 * {@code struct grant_entry_v1} (grant_table.h): one entry of a guest's version 1 grant table,
 * 8 bytes; a grant reference is the index of an entry in the table.
 */
public final class GrantEntryV1Descriptor {
    /** {@code uint16_t flags}: GTF_* type and flags; Xen sets GTF_reading/GTF_writing. */
    public static final int FLAGS_OFFSET = 0;
    /** {@code domid_t domid}: the domain allowed to use the grant. */
    public static final int DOMID_OFFSET = 2;
    /** {@code uint32_t frame}: the guest frame the grant covers. */
    public static final int FRAME_OFFSET = 4;
    public static final int LENGTH = 8;

    /** Entries in one Xen page of the grant table. */
    public static final int ENTRIES_PER_PAGE = SharedRingDescriptor.XEN_PAGE_SIZE / LENGTH;
    /** Entries kept for the toolstack (console, xenstore) across grant table versions. */
    public static final int GNTTAB_NR_RESERVED_ENTRIES = 8;
    public static final int GNTTAB_RESERVED_CONSOLE = 0;
    public static final int GNTTAB_RESERVED_XENSTORE = 1;

    // flags: type, in the low two bits
    public static final int GTF_INVALID = 0;
    public static final int GTF_PERMIT_ACCESS = 1;
    public static final int GTF_ACCEPT_TRANSFER = 2;
    public static final int GTF_TRANSITIVE = 3;
    public static final int GTF_TYPE_MASK = 3;

    // flags: GTF_permit_access sub-flags
    /** The grantee may map the frame read-only only. */
    public static final int GTF_READONLY = 1 << 2;
    /** Set by Xen while the grantee has the frame mapped for reading. */
    public static final int GTF_READING = 1 << 3;
    /** Set by Xen while the grantee has the frame mapped for writing. */
    public static final int GTF_WRITING = 1 << 4;
    public static final int GTF_PWT = 1 << 5;
    public static final int GTF_PCD = 1 << 6;
    public static final int GTF_PAT = 1 << 7;
    public static final int GTF_SUB_PAGE = 1 << 8;

    // flags: GTF_accept_transfer sub-flags
    public static final int GTF_TRANSFER_COMMITTED = 1 << 2;
    public static final int GTF_TRANSFER_COMPLETED = 1 << 3;

    private GrantEntryV1Descriptor() {
    }

    /** Byte offset of the entry for grant reference {@code gref} in the table. */
    public static long entryOffset(int gref) {
        return Integer.toUnsignedLong(gref) * LENGTH;
    }
}
