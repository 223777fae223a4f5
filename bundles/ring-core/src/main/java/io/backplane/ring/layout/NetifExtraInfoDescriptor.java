package io.backplane.ring.layout;

/**
 * {@code struct netif_extra_info} (netif.h): an extra slot following a TX request flagged
 * NETTXF_extra_info (or an RX response flagged NETRXF_extra_info), 8 bytes.
 */
public final class NetifExtraInfoDescriptor {
    /** {@code uint8_t type}: XEN_NETIF_EXTRA_TYPE_*. */
    public static final int TYPE_OFFSET = 0;
    /** {@code uint8_t flags}: XEN_NETIF_EXTRA_FLAG_*. */
    public static final int FLAGS_OFFSET = 1;
    /** {@code u}: the union, 6 bytes. */
    public static final int U_OFFSET = 2;
    public static final int U_LENGTH = 6;

    /** {@code u.gso.size}: maximum payload of one segment. */
    public static final int GSO_SIZE_OFFSET = 2;
    /** {@code u.gso.type}: XEN_NETIF_GSO_TYPE_*. */
    public static final int GSO_TYPE_OFFSET = 4;
    /** {@code u.gso.pad}. */
    public static final int GSO_PAD_OFFSET = 5;
    /** {@code u.gso.features}: XEN_NETIF_GSO_FEAT_* (none defined yet). */
    public static final int GSO_FEATURES_OFFSET = 6;

    /** {@code u.mcast.addr[6]}: the multicast MAC address. */
    public static final int MCAST_ADDR_OFFSET = 2;
    public static final int MCAST_ADDR_LENGTH = 6;

    /** {@code u.hash.type}: _XEN_NETIF_CTRL_HASH_TYPE_*. */
    public static final int HASH_TYPE_OFFSET = 2;
    /** {@code u.hash.algorithm}: XEN_NETIF_CTRL_HASH_ALGORITHM_*. */
    public static final int HASH_ALGORITHM_OFFSET = 3;
    /** {@code u.hash.value[4]}. */
    public static final int HASH_VALUE_OFFSET = 4;
    public static final int HASH_VALUE_LENGTH = 4;

    public static final int LENGTH = 8;

    private NetifExtraInfoDescriptor() {
    }
}
