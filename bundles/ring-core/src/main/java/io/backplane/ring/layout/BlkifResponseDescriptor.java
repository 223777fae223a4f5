package io.backplane.ring.layout;

/** {@code struct blkif_response} (blkif.h), 16 bytes. */
public final class BlkifResponseDescriptor {
    /** {@code uint64_t id}: copied from the request. */
    public static final int ID_OFFSET = 0;
    /** {@code uint8_t operation}: copied from the request. */
    public static final int OPERATION_OFFSET = 8;
    /** {@code int16_t status}: BLKIF_RSP_*. */
    public static final int STATUS_OFFSET = 10;
    public static final int LENGTH = 16;

    private BlkifResponseDescriptor() {
    }
}
