package io.backplane.ring.layout;

/**
 * The request mirror file (Backplane's own, dom0-private, not a Xen structure): a copy of every
 * request a backend took off a ring whose responses overwrite request slots, kept in a file that
 * outlives the backend's process, so that a successor can serve again the requests whose slots
 * the dead process had already overwritten with unpublished responses (docs/backends.md,
 * "Restart and re-attach"). A header, then {@code entries} slots of {@code slot-stride} bytes;
 * request {@code i} (free-running index, as RING_IDX) is in slot {@code i & (entries - 1)}.
 * Little-endian.
 */
public final class RequestMirrorDescriptor {

    /** {@code "BPRM"} read as a little-endian u32. */
    public static final int MAGIC = 0x4D52_5042;
    public static final int VERSION = 1;

    public static final int MAGIC_OFFSET = 0;
    public static final int VERSION_OFFSET = 4;
    /** u32: the ring's slot count (a power of two). */
    public static final int ENTRIES_OFFSET = 8;
    /** u32: bytes per slot, the ring's request slot stride. */
    public static final int SLOT_STRIDE_OFFSET = 12;
    /** u32: the backend's req_cons: requests before it are in the slots. Written last for each request. */
    public static final int REQ_CONS_OFFSET = 16;
    /** The first slot; also the header's length. */
    public static final int SLOTS_OFFSET = 64;

    private RequestMirrorDescriptor() {
    }

    /** Bytes of a mirror of {@code entries} slots of {@code stride} bytes. */
    public static int bytes(int entries, int stride) {
        return SLOTS_OFFSET + entries * stride;
    }
}
