package io.backplane.policy;

import io.backplane.api.device.DeviceCapabilities;
import io.backplane.api.device.FeatureDescriptor;
import org.osgi.service.component.annotations.Component;

import java.util.List;

/**
 * The platform's default vif (netif) features, as Linux netback advertises them. Ranked low so
 * a netback bundle that registers its own {@link DeviceCapabilities} for a key overrides these.
 * Every netif feature is read by netfront when it connects, hence all need a reconnect.
 */
@Component(property = {DeviceCapabilities.DEVICE_TYPE + "=vif", "service.ranking:Integer=-1000"})
public class NetifCapabilities implements DeviceCapabilities {

    /** Linux netback's max_queues default is the number of online CPUs. */
    private final int cpus = Runtime.getRuntime().availableProcessors();

    @Override
    public String deviceType() {
        return "vif";
    }

    @Override
    public List<FeatureDescriptor> features() {
        return List.of(
                FeatureDescriptor.range("multi-queue-max-queues", cpus, 1, 16, true,
                        "most TX/RX queue pairs the frontend may use", "queues", "max-queues"),
                FeatureDescriptor.bool("feature-sg", true, true, "scatter-gather (multi-slot packets)", "sg"),
                FeatureDescriptor.bool("feature-gso-tcpv4", true, true, "TCPv4 segmentation offload", "gso-tcpv4", "tso4"),
                FeatureDescriptor.bool("feature-gso-tcpv6", true, true, "TCPv6 segmentation offload", "gso-tcpv6", "tso6"),
                FeatureDescriptor.bool("feature-ipv6-csum-offload", true, true, "IPv6 checksum offload",
                        "ipv6-csum-offload", "csum6"),
                FeatureDescriptor.bool("feature-rx-copy", true, true, "backend copies received packets into guest buffers",
                        "rx-copy"),
                FeatureDescriptor.bool("feature-split-event-channels", true, true,
                        "separate TX and RX event channels", "split-event-channels", "split-evtchn"),
                FeatureDescriptor.bool("feature-multicast-control", true, true, "multicast filter control",
                        "multicast-control"),
                FeatureDescriptor.bool("feature-dynamic-multicast-control", true, true,
                        "multicast filter changes while connected", "dynamic-multicast-control"),
                FeatureDescriptor.bool("feature-ctrl-ring", true, true, "control ring (hash and mapping control)",
                        "ctrl-ring"));
    }
}
