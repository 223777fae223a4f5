package io.backplane.ring.layout;

/** {@code struct netif_rx_request} (netif.h): an empty buffer the frontend offers, 8 bytes. */
public final class NetifRxRequestDescriptor {
    /** {@code uint16_t id}: echoed in the response. */
    public static final int ID_OFFSET = 0;
    /** {@code uint16_t pad}. */
    public static final int PAD_OFFSET = 2;
    /** {@code grant_ref_t gref}: grant of the page to receive into. */
    public static final int GREF_OFFSET = 4;
    public static final int LENGTH = 8;

    private NetifRxRequestDescriptor() {
    }
}
