package io.backplane.api.device;

import java.util.List;
import java.util.Optional;
import java.util.Set;

/** The merged view of every {@link DeviceCapabilities} registered, per device type. */
public interface CapabilityRegistry {

    /** The device types some bundle has capabilities for. */
    Set<String> deviceTypes();

    /** Every feature of a type, sorted by key; empty for an unknown type. */
    List<FeatureDescriptor> features(String deviceType);

    /** The feature whose key or alias is {@code name}. */
    Optional<FeatureDescriptor> find(String deviceType, String name);
}
