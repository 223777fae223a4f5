package io.backplane.netback;

import io.backplane.ring.layout.NetifConstants;
import io.backplane.ring.RingShape;
import java.util.Map;

/**
 * The netif keys netback implements, named once for the capabilities it registers
 * ({@link VifCapabilities}) and for the code that honours them ({@link NetbackXenbus} at connect,
 * the TX/RX paths per frame). Not here on purpose: {@code feature-ctrl-ring},
 * {@code feature-multicast-control} and {@code feature-dynamic-multicast-control}: netback has
 * no control ring and does no multicast filtering, so it must not offer them.
 */
final class VifFeatures {

    static final String MAX_QUEUES = "multi-queue-max-queues";
    static final String SG = "feature-sg";
    static final String GSO_TCPV4 = "feature-gso-tcpv4";
    static final String GSO_TCPV6 = "feature-gso-tcpv6";
    static final String IPV6_CSUM_OFFLOAD = "feature-ipv6-csum-offload";
    static final String RX_COPY = "feature-rx-copy";
    static final String SPLIT_EVENT_CHANNELS = "feature-split-event-channels";
    /**
     * Multi-page rings: not in netif.h (no upstream standard); named after blkif's keys, see
     * docs/netback.md. The frontend answers with {@link #RING_PAGE_ORDER} and
     * {@code tx-ring-ref0..N-1} / {@code rx-ring-ref0..N-1}.
     */
    static final String MAX_RING_PAGE_ORDER = "max-ring-page-order";
    /** Honoured by a ring strategy that serves it (ring-persistent), not by netback's own code. */
    static final String PERSISTENT = NetifConstants.FEATURE_PERSISTENT;

    // The frontend's side of those offers (netif.h), read by NetbackXenbus.
    static final String NUM_QUEUES = "multi-queue-num-queues";
    static final String REQUEST_RX_COPY = "request-rx-copy";
    static final String EVENT_CHANNEL_TX = "event-channel-tx";
    static final String EVENT_CHANNEL_RX = "event-channel-rx";
    static final String NO_CSUM_OFFLOAD = "feature-no-csum-offload";
    static final String RX_NOTIFY = "feature-rx-notify";
    static final String RING_PAGE_ORDER = "ring-page-order";
    /** Backplane's: "<count>,<max delay ms>", handed to the strategies (ring-map serves it). */
    static final String REQUEST_UNMAP_BATCH = NetifConstants.REQUEST_UNMAP_BATCH;

    /** XENBUS_MAX_RING_GRANT_ORDER: rings of at most 16 pages, as blkback. */
    static final int XENBUS_MAX_RING_GRANT_ORDER = 4;

    /**
     * Every key netback offers, with the frontend key through which {@link NetbackXenbus} takes
     * the offer up at connect (netif.h pairs them; the ring layout keys of {@link RingShape} are
     * written by both ends): an offered key whose answer netback never reads would be a promise
     * no code keeps. {@link #PERSISTENT} is offered only while a ring strategy serves it
     * ({@link VifCapabilities}).
     */
    static final Map<String, String> IMPLEMENTED = Map.ofEntries(
            Map.entry(RingShape.SPLIT_INDEXES, RingShape.SPLIT_INDEXES),
            Map.entry(RingShape.ALIGNED_SLOTS, RingShape.ALIGNED_SLOTS),
            Map.entry(RingShape.SEPARATE_RINGS, RingShape.SEPARATE_RINGS),
            Map.entry(MAX_QUEUES, NUM_QUEUES),
            Map.entry(SG, SG),
            Map.entry(GSO_TCPV4, GSO_TCPV4),
            Map.entry(GSO_TCPV6, GSO_TCPV6),
            Map.entry(IPV6_CSUM_OFFLOAD, IPV6_CSUM_OFFLOAD),
            Map.entry(RX_COPY, REQUEST_RX_COPY),
            Map.entry(SPLIT_EVENT_CHANNELS, EVENT_CHANNEL_TX),
            Map.entry(MAX_RING_PAGE_ORDER, RING_PAGE_ORDER),
            Map.entry(PERSISTENT, PERSISTENT));

    private VifFeatures() {
    }
}
