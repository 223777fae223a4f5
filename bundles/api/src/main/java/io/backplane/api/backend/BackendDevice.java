package io.backplane.api.backend;

import java.util.Map;

/** One device of a driver, driven by the xenbus core on its own thread per device. */
public interface BackendDevice {

    /**
     * The frontend is Initialised or Connected: read its keys, check them against the offer
     * (refusing as Linux does with {@link DeviceException}), open the rings through the
     * ring-strategy registry and start the queues. The core writes {@code state=4} after.
     */
    void connect();

    /**
     * The frontend is closing, the device is reconnecting or going away: stop taking requests,
     * finish and answer those already taken (nothing acknowledged is lost), close the rings.
     * Idempotent.
     */
    void disconnect();

    /** The device is removed (backend directory gone, {@code online=0}, domain destroyed). */
    void remove();

    /** True when {@link #connect()} needs {@code hotplug-status=connected} first (vif). */
    default boolean needsHotplug() {
        return false;
    }

    /** What {@code pv:devices} and {@code pv:show} print: strategy, queues, ring order, counters. */
    Map<String, String> status();
}
