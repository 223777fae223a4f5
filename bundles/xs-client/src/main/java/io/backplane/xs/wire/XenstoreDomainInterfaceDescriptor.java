package io.backplane.xs.wire;

/**
 * {@code struct xenstore_domain_interface} (xs_wire.h): the page a domain and xenstored share,
 * two 1 KiB byte rings with free-running u32 indexes, carrying the same xs_wire messages as the
 * sockets ({@link XsWire}, which also holds the payload and path limits). Checked by XsWireTest.
 */
public final class XenstoreDomainInterfaceDescriptor {
    /** XENSTORE_RING_SIZE: bytes in each ring; indexes are masked with {@code RING_SIZE - 1}. */
    public static final int RING_SIZE = 1024;
    /** {@code char req[1024]}: requests to xenstored. */
    public static final int REQ_OFFSET = 0;
    /** {@code char rsp[1024]}: replies and watch events. */
    public static final int RSP_OFFSET = 1024;
    public static final int REQ_CONS_OFFSET = 2048;
    public static final int REQ_PROD_OFFSET = 2052;
    public static final int RSP_CONS_OFFSET = 2056;
    public static final int RSP_PROD_OFFSET = 2060;
    /** {@code uint32_t server_features}: XENSTORE_SERVER_FEATURE_*. */
    public static final int SERVER_FEATURES_OFFSET = 2064;
    /** {@code uint32_t connection}: XENSTORE_CONNECTED or XENSTORE_RECONNECT. */
    public static final int CONNECTION_OFFSET = 2068;
    /** {@code uint32_t error}: XENSTORE_ERROR_*. */
    public static final int ERROR_OFFSET = 2072;
    public static final int LENGTH = 2076;

    public static final int XENSTORE_SERVER_FEATURE_RECONNECTION = 1;
    public static final int XENSTORE_SERVER_FEATURE_ERROR = 2;

    public static final int XENSTORE_CONNECTED = 0;
    public static final int XENSTORE_RECONNECT = 1;

    public static final int XENSTORE_ERROR_NONE = 0;
    public static final int XENSTORE_ERROR_COMM = 1;
    public static final int XENSTORE_ERROR_RINGIDX = 2;
    public static final int XENSTORE_ERROR_PROTO = 3;

    private XenstoreDomainInterfaceDescriptor() {
    }

    /** MASK_XENSTORE_IDX: position in a ring of a free-running index. */
    public static int maskIndex(int index) {
        return index & (RING_SIZE - 1);
    }
}
