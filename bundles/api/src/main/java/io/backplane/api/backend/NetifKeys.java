package io.backplane.api.backend;

/**
 * The key names only a vif has (/usr/include/xen/io/netif.h unless a key says otherwise); the
 * keys every device has are {@link XenbusKeys}.
 */
public interface NetifKeys {

    /** Frontend: the TX ring's keys are the ring keys with this prefix ({@code tx-ring-ref}, netif.h). */
    String TX_PREFIX = "tx-";
    /** Frontend: the RX ring's keys are the ring keys with this prefix ({@code rx-ring-ref}, netif.h). */
    String RX_PREFIX = "rx-";
    /** Frontend: the TX ring's port when it split the event channels. */
    String EVENT_CHANNEL_TX = "event-channel-tx";
    /** Frontend: the RX ring's port when it split the event channels. */
    String EVENT_CHANNEL_RX = "event-channel-rx";
    /** Backend: a TX and an RX event channel may be used instead of one. */
    String FEATURE_SPLIT_EVENT_CHANNELS = "feature-split-event-channels";
    /** Backend: RX by grant copy (Linux's xen-netback; not in netif.h, page flipping is gone). */
    String FEATURE_RX_COPY = "feature-rx-copy";
    /** Frontend: it takes RX by copy, the only way left (Linux's xen-netfront; not in netif.h). */
    String REQUEST_RX_COPY = "request-rx-copy";
    /** Frontend: it notifies when it posts RX buffers, so the backend need not poll. */
    String FEATURE_RX_NOTIFY = "feature-rx-notify";
    /** Both: a packet may span several slots (Linux's xen-netback and xen-netfront; not in netif.h). */
    String FEATURE_SG = "feature-sg";
    /** Both: TCPv4 segmentation offload. */
    String FEATURE_GSO_TCPV4 = "feature-gso-tcpv4";
    /** Both: TCPv6 segmentation offload. */
    String FEATURE_GSO_TCPV6 = "feature-gso-tcpv6";
    /** Both: IPv6 TCP/UDP checksum offload. */
    String FEATURE_IPV6_CSUM_OFFLOAD = "feature-ipv6-csum-offload";
    /** Frontend: no IPv4 TCP/UDP checksum offload (it is on unless this says 1). */
    String FEATURE_NO_CSUM_OFFLOAD = "feature-no-csum-offload";
    /** Backend: the frontend may reserve XDP headroom in RX buffers (Linux's xen-netfront; not in netif.h). */
    String FEATURE_XDP_HEADROOM = "feature-xdp-headroom";
    /** Backend: the vif's MAC address, written by the toolstack (libxl). */
    String MAC = "mac";
    /** Backend: the bridge the vif joins, written by the toolstack for the hotplug script (libxl). */
    String BRIDGE = "bridge";
    /** Backend: the vif's MTU (libxl; Linux's xen-netback reads it for its default). */
    String MTU = "mtu";
    /** Backend: the credit limit "bytes,usecs" (libxl's rate, Linux's xen_net_read_rate). */
    String RATE = "rate";
}
