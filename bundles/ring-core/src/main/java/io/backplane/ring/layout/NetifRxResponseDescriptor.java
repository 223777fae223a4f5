package io.backplane.ring.layout;

/** {@code struct netif_rx_response} (netif.h), 8 bytes. */
public final class NetifRxResponseDescriptor {
    /** {@code uint16_t id}: the request's id. */
    public static final int ID_OFFSET = 0;
    /** {@code uint16_t offset}: where the data starts in the granted page. */
    public static final int OFFSET_OFFSET = 2;
    /** {@code uint16_t flags}: NETRXF_*. */
    public static final int FLAGS_OFFSET = 4;
    /** {@code int16_t status}: bytes received if positive, else NETIF_RSP_*. */
    public static final int STATUS_OFFSET = 6;
    public static final int LENGTH = 8;

    private NetifRxResponseDescriptor() {
    }
}
