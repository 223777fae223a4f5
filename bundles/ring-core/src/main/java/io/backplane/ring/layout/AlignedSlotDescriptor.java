package io.backplane.ring.layout;

/**
 * Cache-aligned slots (feature-aligned-slots, not in ring.h): every slot is padded so slots never
 * straddle a cache line for netif (16 bytes: four per line) and each blkif slot fills whole lines
 * (a multiple of 64). The padding bytes are the producer's to write; the consumer ignores them.
 */
public final class AlignedSlotDescriptor {

    /** netif slot length: netif_tx 12 and netif_rx 8/12 bytes padded to 16. */
    public static final int NETIF_SLOT_ALIGN = 16;
    /** blkif slot length: a multiple of a cache line (blkif_request 112 becomes 128, blkif_response 16 becomes 64). */
    public static final int BLKIF_SLOT_ALIGN = 64;

    private AlignedSlotDescriptor() {
    }

    /** The alignment of the given {@code RingRequest} protocol's slots ({@code blkif}, {@code netif-tx}, ...). */
    public static int alignment(String protocol) {
        return BlkifConstants.PROTOCOL.equals(protocol) ? BLKIF_SLOT_ALIGN : NETIF_SLOT_ALIGN;
    }

    /** {@code length} rounded up to a multiple of {@code alignment} (a power of two). */
    public static int slotLength(int length, int alignment) {
        return (length + alignment - 1) & -alignment;
    }
}
