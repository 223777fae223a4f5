package io.backplane.ring.layout;

/** {@code struct netif_tx_response} (netif.h), 4 bytes. */
public final class NetifTxResponseDescriptor {
    /** {@code uint16_t id}: the request's id. */
    public static final int ID_OFFSET = 0;
    /** {@code int16_t status}: NETIF_RSP_*. */
    public static final int STATUS_OFFSET = 2;
    public static final int LENGTH = 4;

    private NetifTxResponseDescriptor() {
    }
}
