package io.backplane.blkback;

import static io.backplane.api.backend.BlkifKeys.FEATURE_BARRIER;
import static io.backplane.api.backend.BlkifKeys.FEATURE_DISCARD;
import static io.backplane.api.backend.BlkifKeys.FEATURE_FLUSH_CACHE;
import static io.backplane.api.backend.BlkifKeys.FEATURE_MAX_INDIRECT_SEGMENTS;
import static io.backplane.api.backend.XenbusKeys.MAX_RING_PAGE_ORDER;
import static io.backplane.api.backend.XenbusKeys.MULTI_QUEUE_MAX_QUEUES;
import static io.backplane.api.backend.XenbusKeys.RING_PAGE_ORDER;
import static io.backplane.blkback.VbdFeatures.LINUX_MAX_INDIRECT_SEGMENTS;
import static io.backplane.blkback.VbdFeatures.PERSISTENT;
import static io.backplane.blkback.VbdFeatures.XENBUS_MAX_RING_GRANT_ORDER;

import io.backplane.api.device.DeviceCapabilities;
import io.backplane.api.device.FeatureDescriptor;
import io.backplane.api.ring.RingStrategy;
import io.backplane.ring.RingShape;
import io.backplane.ring.layout.BlkifConstants;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * What a vbd can be offered: the features blkback implements ({@link VbdFeatures}), with Linux
 * blkback's module defaults (max_ring_page_order 4, max_queues = CPUs, 256 indirect segments).
 * Persistent grants are a ring strategy's work, so {@code feature-persistent} is offered only
 * while a registered strategy says it serves it on blkif rings ({@link RingStrategy#SERVES}).
 * The policy asks on every negotiation, so a strategy coming or going shows in the next one.
 */
@Component(service = DeviceCapabilities.class, property = DeviceCapabilities.DEVICE_TYPE + "=" + BlkbackDriver.TYPE)
public final class VbdCapabilities implements DeviceCapabilities {

    /** The most request rings blkback serves per vbd (the policy may offer fewer). */
    static final int QUEUES_LIMIT = 16;

    private final int cpus = Runtime.getRuntime().availableProcessors();
    /** The registered strategies that serve persistent grants on blkif rings. */
    private final Set<RingStrategy> persistentServers = ConcurrentHashMap.newKeySet();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            target = "(" + RingStrategy.SERVES + "=" + BlkifConstants.SERVES_PERSISTENT + ")")
    void addPersistentStrategy(RingStrategy strategy) {
        persistentServers.add(strategy);
    }

    void removePersistentStrategy(RingStrategy strategy) {
        persistentServers.remove(strategy);
    }

    @Override
    public String deviceType() {
        return BlkbackDriver.TYPE;
    }

    @Override
    public List<FeatureDescriptor> features() {
        List<FeatureDescriptor> f = new ArrayList<>(List.of(
                FeatureDescriptor.range(MAX_RING_PAGE_ORDER, XENBUS_MAX_RING_GRANT_ORDER, 0, XENBUS_MAX_RING_GRANT_ORDER,
                        true, "largest shared ring, as log2 of its pages", RING_PAGE_ORDER, "ring-order"),
                FeatureDescriptor.range(MULTI_QUEUE_MAX_QUEUES, Math.min(cpus, QUEUES_LIMIT), 1, QUEUES_LIMIT, true,
                        "most request rings the frontend may use", "queues", "max-queues"),
                FeatureDescriptor.range(FEATURE_MAX_INDIRECT_SEGMENTS, LINUX_MAX_INDIRECT_SEGMENTS, 0, LINUX_MAX_INDIRECT_SEGMENTS,
                        true, "segments per indirect request (0: no indirect requests)", "indirect-segments",
                        "max-indirect-segments"),
                FeatureDescriptor.bool(FEATURE_FLUSH_CACHE, true, true, "FLUSH_DISKCACHE requests", "flush-cache", "flush"),
                FeatureDescriptor.bool(FEATURE_DISCARD, true, true, "DISCARD requests (hole punching)", "discard"),
                FeatureDescriptor.bool(FEATURE_BARRIER, true, true, "WRITE_BARRIER requests", "barrier")));
        f.addAll(RingShape.descriptors());
        if (!persistentServers.isEmpty()) {
            f.add(FeatureDescriptor.bool(PERSISTENT, true, true,
                    "persistent grants (pages stay mapped between requests)", "persistent"));
        }
        return f;
    }
}
