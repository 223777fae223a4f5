package io.backplane.api.backend;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

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

    /**
     * A standby's rehearsal of adopting a device that a live process still serves: runs what
     * an adoption will run (the frontend's keys read and checked against {@code recorded}, the
     * strategies ranked for its rings, I/O on a scratch file of the driver's own) so that the
     * code is loaded and compiled before the owner lets go. It must not touch the device itself:
     * no image or TAP opened, no ring mapped, no port bound, nothing written to XenStore (a
     * second owner). {@code context.negotiation()} is the recorded offer; files go under
     * {@code context.stateDirectory()}, which the core removes afterwards. A failure is logged,
     * never held against the device.
     */
    default void rehearseAdoption(BackendContext context, Map<String, String> recorded) {
    }

    /**
     * A standby's preparation of adopting a device that a live process still serves, after its
     * {@linkplain #rehearseAdoption rehearsal}: what the adoption would otherwise do in the
     * guest's pause and can do beside the owner, done now and held (the frontend's keys read, its
     * rings and the grants the owner keeps mapped across requests mapped too, Xen allowing a
     * grant mapped twice). Same bounds as the rehearsal otherwise: no image or TAP opened, no port
     * bound, nothing written to XenStore. The owner's files ({@code ownerFiles}, the directory its
     * record names) are only read. The core keeps what is returned while the device is left, and
     * hands it to {@link BackendDevice#adopt(Map, PreparedAdoption)} if this process adopts the
     * device with the same record, else closes it. Null (the default): nothing prepared, the
     * adoption does everything itself.
     *
     * @param recorded   what the owner's connect decided ({@link BackendDevice#connection()})
     * @param ownerFiles the owner's directory of the device's files, if its record names one
     */
    default PreparedAdoption prepareAdoption(BackendContext context, Map<String, String> recorded, Optional<Path> ownerFiles) {
        return null;
    }
}
