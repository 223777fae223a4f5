package io.backplane.policy;

import io.backplane.api.device.DeviceCapabilities;
import io.backplane.api.device.FeatureDescriptor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class MergedCapabilityRegistryTest {

    @Test
    void higherRankedContributionOverridesDefaultsKeyByKeyAndAddsFeatures() {
        MergedCapabilityRegistry reg = new MergedCapabilityRegistry();
        reg.addCapabilities(FixtureCapabilities.vif(), Map.of("service.ranking", -1000, "service.id", 1L));
        DeviceCapabilities netback = new DeviceCapabilities() {
            public String deviceType() {
                return "vif";
            }

            public List<FeatureDescriptor> features() {
                return List.of(FeatureDescriptor.range("multi-queue-max-queues", 2, 1, 8, true, "q", "queues"),
                        FeatureDescriptor.bool("feature-xdp-headroom", false, true, "xdp", "xdp"));
            }
        };
        reg.addCapabilities(netback, Map.of("service.id", 2L));
        assertThat(reg.find("vif", "queues")).get().extracting(FeatureDescriptor::max).isEqualTo(8L);
        assertThat(reg.find("vif", "xdp")).isPresent();
        assertThat(reg.find("vif", "sg")).isPresent();
        assertThat(reg.deviceTypes()).containsExactly("vif");

        reg.removeCapabilities(netback);
        assertThat(reg.find("vif", "queues")).get().extracting(FeatureDescriptor::max).isEqualTo(16L);
        assertThat(reg.find("vif", "xdp")).isEmpty();
        assertThat(reg.features("vbd")).isEmpty();
    }
}
