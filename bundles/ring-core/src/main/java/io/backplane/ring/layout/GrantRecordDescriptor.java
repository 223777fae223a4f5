package io.backplane.ring.layout;

/**
 * The grant record file (Backplane's own, dom0-private, not a Xen structure): the grant
 * references one ring's data path holds mapped from one request to the next (persistent
 * grants), kept in a file that outlives the backend's process, so that a standby can map them
 * beside the owner before it goes instead of one request at a time after its adoption
 * (docs/backends.md, "What the adoption waits for"). A header, then {@code capacity} u32 slots of
 * which the first {@code count} hold a reference each, in no order. Little-endian.
 */
public final class GrantRecordDescriptor {

    /** {@code "BPGR"} read as a little-endian u32. */
    public static final int MAGIC = 0x5247_5042;
    public static final int VERSION = 1;

    public static final int MAGIC_OFFSET = 0;
    public static final int VERSION_OFFSET = 4;
    /** u32: slots in the file (the data path's cap on grants it keeps). */
    public static final int CAPACITY_OFFSET = 8;
    /** u32: the domain that granted them; a record of another domain is not used. */
    public static final int DOMID_OFFSET = 12;
    /** u32: slots in use; written after the slot it covers. */
    public static final int COUNT_OFFSET = 16;
    /** The first slot; also the header's length. */
    public static final int REFS_OFFSET = 64;
    public static final int REF_LENGTH = 4;

    private GrantRecordDescriptor() {
    }

    /** Bytes of a record of {@code capacity} slots. */
    public static int bytes(int capacity) {
        return REFS_OFFSET + capacity * REF_LENGTH;
    }
}
