package io.backplane.ring.layout;

import io.backplane.api.backend.XenbusKeys;

/** Flags, types and status codes of netif.h. */
public final class NetifConstants {

    /** Minimum number of slots a backend must accept for one packet (a 64 KiB packet + extras). */
    public static final int XEN_NETIF_NR_SLOTS_MIN = 18;
    /** Largest packet a TX request chain may describe. */
    public static final int XEN_NETIF_MAX_TX_SIZE = 0xFFFF;

    // netif_tx_request.flags
    public static final int NETTXF_CSUM_BLANK = 1 << 0;
    public static final int NETTXF_DATA_VALIDATED = 1 << 1;
    public static final int NETTXF_MORE_DATA = 1 << 2;
    public static final int NETTXF_EXTRA_INFO = 1 << 3;

    // netif_rx_response.flags
    public static final int NETRXF_DATA_VALIDATED = 1 << 0;
    public static final int NETRXF_CSUM_BLANK = 1 << 1;
    public static final int NETRXF_MORE_DATA = 1 << 2;
    public static final int NETRXF_EXTRA_INFO = 1 << 3;
    public static final int NETRXF_GSO_PREFIX = 1 << 4;

    // netif_extra_info.type
    public static final int XEN_NETIF_EXTRA_TYPE_NONE = 0;
    public static final int XEN_NETIF_EXTRA_TYPE_GSO = 1;
    public static final int XEN_NETIF_EXTRA_TYPE_MCAST_ADD = 2;
    public static final int XEN_NETIF_EXTRA_TYPE_MCAST_DEL = 3;
    public static final int XEN_NETIF_EXTRA_TYPE_HASH = 4;
    public static final int XEN_NETIF_EXTRA_TYPE_MAX = 5;

    // netif_extra_info.flags
    public static final int XEN_NETIF_EXTRA_FLAG_MORE = 1 << 0;

    // netif_extra_info.u.gso.type
    public static final int XEN_NETIF_GSO_TYPE_NONE = 0;
    public static final int XEN_NETIF_GSO_TYPE_TCPV4 = 1;
    public static final int XEN_NETIF_GSO_TYPE_TCPV6 = 2;

    // netif_tx_response.status, netif_rx_response.status (when not a length)
    public static final int NETIF_RSP_DROPPED = -2;
    public static final int NETIF_RSP_ERROR = -1;
    public static final int NETIF_RSP_OKAY = 0;
    /** No response: used for auxiliary requests such as netif_extra_info slots. */
    public static final int NETIF_RSP_NULL = 1;

    /** The {@code RingRequest} protocol family of a vif's rings ({@code netif-tx}, {@code netif-rx}). */
    public static final String PROTOCOL = "netif";
    /** A ring strategy's {@code RingStrategy.SERVES} entry for persistent grants on netif rings. */
    public static final String SERVES_PERSISTENT = PROTOCOL + ":" + XenbusKeys.FEATURE_PERSISTENT;
    /** A ring strategy's {@code RingStrategy.SERVES} entry for {@link XenbusKeys#REQUEST_UNMAP_BATCH} on netif rings. */
    public static final String SERVES_UNMAP_BATCH = PROTOCOL + ":" + XenbusKeys.REQUEST_UNMAP_BATCH;

    private NetifConstants() {
    }
}
