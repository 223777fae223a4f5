package io.backplane.netback;

import io.backplane.api.backend.NetifKeys;
import io.backplane.api.backend.XenbusKeys;
import io.backplane.ring.RingShape;
import java.util.Map;

/**
 * The netif keys netback implements (named in the API's {@link NetifKeys} and {@link XenbusKeys}),
 * for the capabilities it registers ({@link VifCapabilities}) and the code that honours them
 * ({@link NetbackXenbus} at connect, the TX/RX paths per frame). Not here on purpose: {@code feature-ctrl-ring},
 * {@code feature-multicast-control} and {@code feature-dynamic-multicast-control}: netback has
 * no control ring and does no multicast filtering, so it must not offer them.
 */
final class VifFeatures {

    /** The offer netback honours through a ring strategy that serves it (ring-persistent), not its own code. */
    static final String PERSISTENT = XenbusKeys.FEATURE_PERSISTENT;

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
            Map.entry(XenbusKeys.MULTI_QUEUE_MAX_QUEUES, XenbusKeys.MULTI_QUEUE_NUM_QUEUES),
            Map.entry(NetifKeys.FEATURE_SG, NetifKeys.FEATURE_SG),
            Map.entry(NetifKeys.FEATURE_GSO_TCPV4, NetifKeys.FEATURE_GSO_TCPV4),
            Map.entry(NetifKeys.FEATURE_GSO_TCPV6, NetifKeys.FEATURE_GSO_TCPV6),
            Map.entry(NetifKeys.FEATURE_IPV6_CSUM_OFFLOAD, NetifKeys.FEATURE_IPV6_CSUM_OFFLOAD),
            Map.entry(NetifKeys.FEATURE_RX_COPY, NetifKeys.REQUEST_RX_COPY),
            Map.entry(NetifKeys.FEATURE_SPLIT_EVENT_CHANNELS, NetifKeys.EVENT_CHANNEL_TX),
            Map.entry(XenbusKeys.MAX_RING_PAGE_ORDER, XenbusKeys.RING_PAGE_ORDER),
            Map.entry(PERSISTENT, PERSISTENT));

    private VifFeatures() {
    }
}
