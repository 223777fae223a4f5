package io.backplane.ring.layout;

/**
 * {@code struct blkif_request_indirect} (blkif.h, x86_64 ABI): the request slot read when
 * operation is BLKIF_OP_INDIRECT. Its segments live in up to
 * {@link BlkifConstants#BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST} granted pages, each an array of
 * {@link BlkifConstants#SEGS_PER_INDIRECT_FRAME} {@code blkif_request_segment}s.
 */
public final class BlkifIndirectRequestDescriptor {
    /** {@code uint8_t operation}: BLKIF_OP_INDIRECT. */
    public static final int OPERATION_OFFSET = 0;
    /** {@code uint8_t indirect_op}: BLKIF_OP_READ or BLKIF_OP_WRITE. */
    public static final int INDIRECT_OP_OFFSET = 1;
    /** {@code uint16_t nr_segments}. */
    public static final int NR_SEGMENTS_OFFSET = 2;
    /** {@code uint64_t id}. */
    public static final int ID_OFFSET = 8;
    /** {@code blkif_sector_t sector_number}. */
    public static final int SECTOR_NUMBER_OFFSET = 16;
    /** {@code blkif_vdev_t handle}. */
    public static final int HANDLE_OFFSET = 24;
    /** {@code grant_ref_t indirect_grefs[8]}: grants of the pages holding the segments. */
    public static final int INDIRECT_GREFS_OFFSET = 28;
    public static final int INDIRECT_GREF_LENGTH = 4;
    /** sizeof, including the tail padding to 8-byte alignment. */
    public static final int LENGTH = 64;

    private BlkifIndirectRequestDescriptor() {
    }

    /** Offset of {@code indirect_grefs[index]}. */
    public static int indirectGrefOffset(int index) {
        return INDIRECT_GREFS_OFFSET + index * INDIRECT_GREF_LENGTH;
    }

    /** Offset of segment {@code index} within its indirect page. */
    public static int indirectSegmentOffset(int index) {
        return (index % BlkifConstants.SEGS_PER_INDIRECT_FRAME) * BlkifRequestDescriptor.SEGMENT_LENGTH;
    }

    /** Number of indirect pages holding {@code segments} segments (blkif.h's ceil division). */
    public static int indirectPages(int segments) {
        return (segments + BlkifConstants.SEGS_PER_INDIRECT_FRAME - 1) / BlkifConstants.SEGS_PER_INDIRECT_FRAME;
    }
}
