package io.backplane.api.backend;

import io.backplane.api.ring.RingRequest;
import java.util.List;
import java.util.Map;

/** One device of a driver, driven by the xenbus core on its own thread per device. */
public interface BackendDevice {

    /** {@link #status()} key: the ring strategy serving the device ({@code grant-copy}); pv:devices shows it. */
    String STATUS_STRATEGY = "strategy";

    /** {@link #status()} key: the number of queues connected; pv:devices shows it. */
    String STATUS_QUEUES = "queues";

    /** {@link #status()} key: the ring page order in use; pv:devices shows it. */
    String STATUS_RING_ORDER = XenbusKeys.RING_PAGE_ORDER;

    /** {@link #status()} key: the negotiated features in short form ({@code sg gso-tcpv4 persistent}). */
    String STATUS_FEATURES = "features";

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

    /**
     * What {@link #connect()} (or {@link #adopt}) decided that a successor must know to carry on
     * without renegotiating, in the driver's words ({@code strategy}, {@code queues},
     * {@code ring-page-order}, {@code layout}...): the core records it under the backend
     * directory. Empty (the default, or not connected): the device cannot be adopted.
     */
    default Map<String, String> connection() {
        return Map.of();
    }

    /**
     * Re-attach: the frontend stayed Connected while no backend served it (the last one handed
     * it over, crashed, or its bundle was updated). Read the frontend's keys as {@link #connect()}
     * does, against the offer recorded at that connect ({@link BackendContext#negotiation()}),
     * check them against {@code recorded} (what {@link #connection()} returned then), map the same
     * rings, attach to each at its published {@code rsp_prod} (requests after it are served,
     * again if the dead backend took them: from the ring's request mirror in
     * {@link BackendContext#stateDirectory()} as far as it took them, since its unpublished
     * responses may have overwritten their slots), re-bind the frontend's ports and notify each once.
     * Write nothing the frontend reads: no state key changes. Called instead of connect.
     *
     * @throws DeviceException in operator words when the frontend's keys no longer match the
     *         record or a ring cannot be mapped; the core then fails the device as for connect
     */
    default void adopt(Map<String, String> recorded) {
        throw new DeviceException("this device type cannot re-attach to live rings");
    }

    /**
     * {@link #adopt(Map)} with what this process prepared while the device was left to its
     * previous owner ({@link BackendDriver#prepareAdoption}, made from the same record): the
     * device takes it over, using what it holds and closing it (on failure too). The
     * frontend's keys the preparation read still hold: the core claimed the device only because
     * the record (and so the connection the keys made) is the one it was prepared on. The default
     * closes it and adopts as without.
     */
    default void adopt(Map<String, String> recorded, PreparedAdoption prepared) {
        prepared.close();
        adopt(recorded);
    }

    /**
     * What {@link #adopt} and a standby's rehearsal check: each thing the frontend's keys decide
     * {@code now} must be what was {@code recorded} at its connect.
     *
     * @throws DeviceException naming the first that differs
     */
    static void requireRecorded(Map<String, String> now, Map<String, String> recorded) {
        for (Map.Entry<String, String> e : now.entrySet()) {
            if (!e.getValue().equals(recorded.get(e.getKey()))) {
                throw new DeviceException("the frontend's keys say " + e.getKey() + " " + e.getValue()
                        + ", but it connected with " + recorded.getOrDefault(e.getKey(), "none") + ": not re-attaching");
            }
        }
    }

    /**
     * A hand-over to a successor ({@code keepDevices}): as {@link #disconnect()} (every request
     * taken answered and published, the event channels closed: a successor binds the same
     * frontend ports), except that releasing the ring and grant mappings may be left to the
     * returned task. The core runs it once the successor may adopt (the device's owner released):
     * Xen lets the same grant be mapped twice, so the successor maps while this unmaps, and the
     * guest's pause does not wait for the unmapping (hundreds of persistent grants are seconds
     * of unmapping under emulation). The default disconnects and leaves nothing.
     */
    default Runnable handOver() {
        disconnect();
        return () -> { };
    }

    /** The device is removed (backend directory gone, {@code online=0}, domain destroyed). */
    void remove();

    /** True when {@link #connect()} needs {@code hotplug-status=connected} first (vif). */
    default boolean needsHotplug() {
        return false;
    }

    /**
     * What {@code pv:devices} and {@code pv:show} print: the {@code STATUS_*} keys when connected,
     * then any counters ({@code queue-0/tx-packets}, {@code grant-copies}...). Called from the
     * shell's thread at any time: must not block and must not throw.
     */
    Map<String, String> status();

    /**
     * Hot swap: moves every ring of the connected device to the ring strategy {@code strategy}
     * (null: the fittest now registered) without the frontend noticing. Each ring's worker stops
     * at a batch boundary (every request it took answered and pushed, {@code SegmentIo.flush()}
     * done), the ring is reopened with the same {@link RingRequest}, the back ring re-attached at
     * its private indexes, the old channel closed, and the worker resumes with a final check.
     * No xenbus state changes. Called on the device's own executor.
     *
     * @return one entry per ring, in queue order
     * @throws DeviceException in operator words when the device is not connected or the strategy
     *         does not fit a ring's negotiated features; nothing changed then
     */
    default List<StrategySwap> swapStrategy(String strategy) {
        throw new DeviceException("this device type does not support ring strategy swaps");
    }

    /**
     * The ring requests of the connected device, one per ring, in queue order (empty when not
     * connected): the core ranks newly registered strategies against them. Must not block.
     */
    default List<RingRequest> ringRequests() {
        return List.of();
    }
}
