package io.backplane.ring.layout;

/**
 * {@code struct blkif_request} (blkif.h, x86_64 ABI): a read or write of up to
 * {@link BlkifConstants#BLKIF_MAX_SEGMENTS_PER_REQUEST} granted page segments, 112 bytes.
 */
public final class BlkifRequestDescriptor {
    /** {@code uint8_t operation}: BLKIF_OP_*. */
    public static final int OPERATION_OFFSET = 0;
    /** {@code uint8_t nr_segments}. */
    public static final int NR_SEGMENTS_OFFSET = 1;
    /** {@code blkif_vdev_t handle} (u16). */
    public static final int HANDLE_OFFSET = 2;
    /** {@code uint64_t id}: private guest value, echoed in the response. */
    public static final int ID_OFFSET = 8;
    /** {@code blkif_sector_t sector_number} (u64): in 512-byte sectors. */
    public static final int SECTOR_NUMBER_OFFSET = 16;
    /** {@code struct blkif_request_segment seg[11]}. */
    public static final int SEG_OFFSET = 24;

    /** {@code struct blkif_request_segment}: {@code grant_ref_t gref; uint8_t first_sect, last_sect;}. */
    public static final int SEGMENT_GREF_OFFSET = 0;
    public static final int SEGMENT_FIRST_SECT_OFFSET = 4;
    public static final int SEGMENT_LAST_SECT_OFFSET = 5;
    public static final int SEGMENT_LENGTH = 8;

    public static final int LENGTH = 112;

    private BlkifRequestDescriptor() {
    }

    /** Offset of segment {@code index} within the request (also within an indirect page, from 0). */
    public static int segmentOffset(int index) {
        return SEG_OFFSET + index * SEGMENT_LENGTH;
    }
}
