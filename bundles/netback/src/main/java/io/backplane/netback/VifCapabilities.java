package io.backplane.netback;

import static io.backplane.api.backend.NetifKeys.FEATURE_GSO_TCPV4;
import static io.backplane.api.backend.NetifKeys.FEATURE_GSO_TCPV6;
import static io.backplane.api.backend.NetifKeys.FEATURE_IPV6_CSUM_OFFLOAD;
import static io.backplane.api.backend.NetifKeys.FEATURE_RX_COPY;
import static io.backplane.api.backend.NetifKeys.FEATURE_SG;
import static io.backplane.api.backend.NetifKeys.FEATURE_SPLIT_EVENT_CHANNELS;
import static io.backplane.api.backend.XenbusKeys.MAX_RING_PAGE_ORDER;
import static io.backplane.api.backend.XenbusKeys.MULTI_QUEUE_MAX_QUEUES;
import static io.backplane.api.backend.XenbusKeys.RING_PAGE_ORDER;
import static io.backplane.netback.VifFeatures.PERSISTENT;
import static io.backplane.netback.VifFeatures.XENBUS_MAX_RING_GRANT_ORDER;

import io.backplane.api.device.DeviceCapabilities;
import io.backplane.api.device.FeatureDescriptor;
import io.backplane.api.ring.RingStrategy;
import io.backplane.ring.layout.NetifConstants;
import io.backplane.ring.RingShape;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * What a vif can be offered: the features netback implements ({@link VifFeatures}), with Linux
 * netback's defaults, for the negotiation policy's capability registry. Every netif feature is
 * read by netfront when it connects, hence all need a reconnect. Persistent grants are a ring
 * strategy's work, so {@code feature-persistent} is offered only while a registered strategy says
 * it serves it on netif rings ({@link RingStrategy#SERVES}), as blkback's {@code VbdCapabilities}.
 */
@Component(service = DeviceCapabilities.class, property = DeviceCapabilities.DEVICE_TYPE + "=" + NetbackDriver.TYPE)
public final class VifCapabilities implements DeviceCapabilities {

    /** The most queues netback serves per vif (the policy may offer fewer). */
    static final int QUEUES_LIMIT = 16;

    /** Linux netback's max_queues default is the number of online CPUs. */
    private final int cpus = Runtime.getRuntime().availableProcessors();
    /** The registered strategies that serve persistent grants on netif rings. */
    private final Set<RingStrategy> persistentServers = ConcurrentHashMap.newKeySet();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            target = "(" + RingStrategy.SERVES + "=" + NetifConstants.SERVES_PERSISTENT + ")")
    void addPersistentStrategy(RingStrategy strategy) {
        persistentServers.add(strategy);
    }

    void removePersistentStrategy(RingStrategy strategy) {
        persistentServers.remove(strategy);
    }

    @Override
    public String deviceType() {
        return NetbackDriver.TYPE;
    }

    @Override
    public List<FeatureDescriptor> features() {
        List<FeatureDescriptor> f = new ArrayList<>();
        f.addAll(RingShape.descriptors());
        f.addAll(List.of(
                FeatureDescriptor.range(MULTI_QUEUE_MAX_QUEUES, Math.min(cpus, QUEUES_LIMIT), 1, QUEUES_LIMIT, true,
                        "most TX/RX queue pairs the frontend may use", "queues", "max-queues"),
                FeatureDescriptor.bool(FEATURE_SG, true, true, "scatter-gather (multi-slot packets)", "sg"),
                FeatureDescriptor.bool(FEATURE_GSO_TCPV4, true, true, "TCPv4 segmentation offload", "gso-tcpv4", "tso4"),
                FeatureDescriptor.bool(FEATURE_GSO_TCPV6, true, true, "TCPv6 segmentation offload", "gso-tcpv6", "tso6"),
                FeatureDescriptor.bool(FEATURE_IPV6_CSUM_OFFLOAD, true, true, "IPv6 checksum offload",
                        "ipv6-csum-offload", "csum6"),
                FeatureDescriptor.bool(FEATURE_RX_COPY, true, true, "backend copies received packets into guest buffers",
                        "rx-copy"),
                FeatureDescriptor.bool(FEATURE_SPLIT_EVENT_CHANNELS, true, true,
                        "separate TX and RX event channels", "split-event-channels", "split-evtchn"),
                FeatureDescriptor.range(MAX_RING_PAGE_ORDER, XENBUS_MAX_RING_GRANT_ORDER, 0, XENBUS_MAX_RING_GRANT_ORDER,
                        true, "largest TX and RX ring, as log2 of its pages", RING_PAGE_ORDER, "ring-order")));
        if (!persistentServers.isEmpty()) {
            f.add(FeatureDescriptor.bool(PERSISTENT, true, true,
                    "persistent grants (the frontend reuses a bounded pool of pages, kept mapped)", "persistent"));
        }
        return f;
    }
}
