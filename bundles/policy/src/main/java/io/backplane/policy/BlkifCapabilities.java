package io.backplane.policy;

import io.backplane.api.device.DeviceCapabilities;
import io.backplane.api.device.FeatureDescriptor;
import org.osgi.service.component.annotations.Component;

import java.util.List;

/**
 * The platform's default vbd (blkif) features, as Linux blkback advertises them (module
 * parameter defaults: max_ring_page_order 4, max_queues = CPUs, 256 indirect segments).
 * Ranked low so a blkback bundle's own registration overrides them key by key.
 */
@Component(property = {DeviceCapabilities.DEVICE_TYPE + "=vbd", "service.ranking:Integer=-1000"})
public class BlkifCapabilities implements DeviceCapabilities {

    private final int cpus = Runtime.getRuntime().availableProcessors();

    @Override
    public String deviceType() {
        return "vbd";
    }

    @Override
    public List<FeatureDescriptor> features() {
        return List.of(
                FeatureDescriptor.range("max-ring-page-order", 4, 0, 4, true,
                        "largest shared ring, as log2 of its pages", "ring-page-order", "ring-order"),
                FeatureDescriptor.range("multi-queue-max-queues", cpus, 1, 16, true,
                        "most request rings the frontend may use", "queues", "max-queues"),
                FeatureDescriptor.bool("feature-persistent", true, true,
                        "persistent grants (pages stay mapped between requests)", "persistent"),
                FeatureDescriptor.range("feature-max-indirect-segments", 256, 0, 256, true,
                        "segments per indirect request (0: no indirect requests)", "indirect-segments",
                        "max-indirect-segments"),
                FeatureDescriptor.bool("feature-flush-cache", true, true, "FLUSH_DISKCACHE requests", "flush-cache", "flush"),
                FeatureDescriptor.bool("feature-discard", true, true, "DISCARD requests (hole punching)", "discard"),
                FeatureDescriptor.bool("feature-barrier", true, true, "WRITE_BARRIER requests", "barrier"));
    }
}
