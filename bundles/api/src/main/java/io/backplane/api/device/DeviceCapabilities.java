package io.backplane.api.device;

import java.util.List;

/**
 * What one backend type can offer, registered as a service by whoever implements (or extends)
 * that backend. The {@link CapabilityRegistry} merges all registrations of a type; when two
 * describe the same key, the one with the higher {@code service.ranking} wins, so a backend
 * bundle can refine the platform defaults without touching them.
 */
public interface DeviceCapabilities {

    /** Service property naming the device type, so consumers can filter. */
    String DEVICE_TYPE = "backplane.device.type";

    /** {@code vif}, {@code vbd}, ... */
    String deviceType();

    List<FeatureDescriptor> features();
}
