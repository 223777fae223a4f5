package io.backplane.ring.layout;

/** {@code struct netif_tx_request} (netif.h): one TX slot the frontend fills, 12 bytes. */
public final class NetifTxRequestDescriptor {
    /** {@code grant_ref_t gref}: grant of the page holding the data. */
    public static final int GREF_OFFSET = 0;
    /** {@code uint16_t offset}: offset of the data within that page. */
    public static final int OFFSET_OFFSET = 4;
    /** {@code uint16_t flags}: NETTXF_*. */
    public static final int FLAGS_OFFSET = 6;
    /** {@code uint16_t id}: echoed in the response. */
    public static final int ID_OFFSET = 8;
    /** {@code uint16_t size}: bytes in this slot; in the first slot of a packet, the whole packet. */
    public static final int SIZE_OFFSET = 10;
    public static final int LENGTH = 12;

    private NetifTxRequestDescriptor() {
    }
}
