/**
 * The device and feature model: which PV devices exist ({@link DeviceId}), which features a
 * backend type can offer ({@link FeatureDescriptor}, contributed per type through
 * {@link DeviceCapabilities} and looked up in the {@link CapabilityRegistry}), and the
 * {@link NegotiationPolicy} a backend asks when it probes a device: which feature values to
 * publish, and what became of each {@code request-<feature>} the toolstack wrote.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package io.backplane.api.device;
