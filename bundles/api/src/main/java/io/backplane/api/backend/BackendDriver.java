package io.backplane.api.backend;

/**
 * A device type's backend ({@code vif}, {@code vbd}), registered as a service with the property
 * {@link #DEVICE_TYPE}. The xenbus core creates one {@link BackendDevice} per backend directory.
 */
public interface BackendDriver {

    /** Service property naming the device type this driver serves. */
    String DEVICE_TYPE = "backplane.device.type";

    String deviceType();

    /**
     * Probe: a backend directory appeared and the policy has published the offer. Reads the
     * toolstack's keys (e.g. {@code params}, {@code bridge}), prepares the sink, writes any extra
     * keys the frontend reads before connecting, and returns the device. Throwing
     * {@link DeviceException} fails the probe with its message (xenbus_dev_fatal).
     */
    BackendDevice probe(BackendContext context);
}
