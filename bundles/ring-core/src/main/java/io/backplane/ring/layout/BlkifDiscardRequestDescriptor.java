package io.backplane.ring.layout;

/** {@code struct blkif_request_discard} (blkif.h): the request slot read when operation is BLKIF_OP_DISCARD. */
public final class BlkifDiscardRequestDescriptor {
    /** {@code uint8_t operation}: BLKIF_OP_DISCARD. */
    public static final int OPERATION_OFFSET = 0;
    /** {@code uint8_t flag}: BLKIF_DISCARD_SECURE or zero. */
    public static final int FLAG_OFFSET = 1;
    /** {@code blkif_vdev_t handle}. */
    public static final int HANDLE_OFFSET = 2;
    /** {@code uint64_t id}. */
    public static final int ID_OFFSET = 8;
    /** {@code blkif_sector_t sector_number}: first sector to discard. */
    public static final int SECTOR_NUMBER_OFFSET = 16;
    /** {@code uint64_t nr_sectors}: contiguous sectors to discard. */
    public static final int NR_SECTORS_OFFSET = 24;
    public static final int LENGTH = 32;

    private BlkifDiscardRequestDescriptor() {
    }
}
