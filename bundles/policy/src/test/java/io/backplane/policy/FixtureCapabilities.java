package io.backplane.policy;

import io.backplane.api.device.DeviceCapabilities;
import io.backplane.api.device.FeatureDescriptor;

import java.util.List;

/**
 * Capability tables for tests of the policy alone: the real ones are registered by the backend
 * bundles (netback's VifCapabilities, blkback's VbdCapabilities), which the policy does not
 * depend on. Shaped like them: Linux's keys, aliases and defaults (queues: the CPUs).
 */
public final class FixtureCapabilities implements DeviceCapabilities {

    private static final int CPUS = Runtime.getRuntime().availableProcessors();

    private final String type;
    private final List<FeatureDescriptor> features;

    private FixtureCapabilities(String type, List<FeatureDescriptor> features) {
        this.type = type;
        this.features = features;
    }

    public static FixtureCapabilities vif() {
        return new FixtureCapabilities("vif", List.of(
                FeatureDescriptor.range("multi-queue-max-queues", CPUS, 1, 16, true, "queue pairs", "queues", "max-queues"),
                FeatureDescriptor.bool("feature-sg", true, true, "scatter-gather", "sg"),
                FeatureDescriptor.bool("feature-gso-tcpv4", true, true, "TCPv4 GSO", "gso-tcpv4", "tso4"),
                FeatureDescriptor.bool("feature-gso-tcpv6", true, true, "TCPv6 GSO", "gso-tcpv6", "tso6"),
                FeatureDescriptor.bool("feature-ipv6-csum-offload", true, true, "IPv6 csum", "ipv6-csum-offload", "csum6"),
                FeatureDescriptor.bool("feature-rx-copy", true, true, "rx copy", "rx-copy"),
                FeatureDescriptor.bool("feature-split-event-channels", true, true, "split channels",
                        "split-event-channels", "split-evtchn")));
    }

    public static FixtureCapabilities vbd() {
        return new FixtureCapabilities("vbd", List.of(
                FeatureDescriptor.range("max-ring-page-order", 4, 0, 4, true, "ring order", "ring-page-order", "ring-order"),
                FeatureDescriptor.range("multi-queue-max-queues", CPUS, 1, 16, true, "request rings", "queues", "max-queues"),
                FeatureDescriptor.bool("feature-persistent", true, true, "persistent grants", "persistent"),
                FeatureDescriptor.range("feature-max-indirect-segments", 256, 0, 256, true, "indirect segments",
                        "indirect-segments", "max-indirect-segments"),
                FeatureDescriptor.bool("feature-flush-cache", true, true, "flush", "flush-cache", "flush"),
                FeatureDescriptor.bool("feature-discard", true, true, "discard", "discard"),
                FeatureDescriptor.bool("feature-barrier", true, true, "barrier", "barrier")));
    }

    @Override
    public String deviceType() {
        return type;
    }

    @Override
    public List<FeatureDescriptor> features() {
        return features;
    }
}
