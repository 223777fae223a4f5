package io.backplane.api.backend;

import io.backplane.api.device.DeviceId;
import io.backplane.api.device.Negotiation;
import io.backplane.api.xenstore.XenStore;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** What the xenbus core gives a driver for one device. */
public interface BackendContext {

    DeviceId id();

    XenStore xenstore();

    /** The offer the policy published at probe time (or after the last re-negotiation). */
    Negotiation negotiation();

    /** A key of the backend directory, relative to it ({@code "bridge"}); empty when absent. */
    Optional<String> backendKey(String key);

    /**
     * Several keys of the backend directory, in order, read together (one round trip, as
     * {@link #frontendKeys}: a driver's probe is part of an adoption's pause).
     */
    default List<Optional<String>> backendKeys(List<String> keys) {
        return keys.stream().map(this::backendKey).toList();
    }

    /** A key of the frontend directory, relative to it ({@code "queue-0/tx-ring-ref"}). */
    Optional<String> frontendKey(String key);

    /**
     * Several keys of the frontend directory, in order, read together (XsOps.tryReadAll: one
     * round trip to xenstored instead of one each, which is what a re-attach's pause is made of).
     */
    default List<Optional<String>> frontendKeys(List<String> keys) {
        return keys.stream().map(this::frontendKey).toList();
    }

    /**
     * xenbus_dev_fatal: writes {@code error/<backend path>/error} and {@code <backend>/error} with
     * the reason, logs it and takes the device to Closing. The runtime and other devices go on.
     */
    void fatal(String reason);

    /** Logs an operator line prefixed with the device ({@code 3/vif/0: ...}). */
    void log(String message);

    /**
     * A dom0-private directory (created on demand) for this device's files that must outlive the
     * process but not the host, such as a ring's request mirror: a successor that adopts the
     * device after a crash or a handover finds them there; the core removes them when the device
     * disconnects, fails or goes away. Empty when the runtime has no state directory.
     */
    default Optional<Path> stateDirectory() {
        return Optional.empty();
    }
}
