package io.backplane.netback;

import io.backplane.api.backend.BackendDriver;
import io.backplane.api.device.DeviceId;
import io.backplane.api.device.Negotiation;
import io.backplane.api.device.NegotiationPolicy;
import io.backplane.api.log.OperatorLog;
import io.backplane.api.xenstore.XenStore;
import io.backplane.backend.BackendBus;
import io.backplane.backend.DeviceView;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;

/**
 * backend-core's real xenbus lifecycle ({@link BackendBus}: probe, hotplug-status, InitWait,
 * Connected, Closing/Closed, reconnect, error nodes) serving one netback driver, with a fixed
 * offer per device standing in for the negotiation policy (tested in its own bundle). The bus
 * probes a device as soon as its backend directory appears, so give its offer first.
 */
final class NetbackBus implements AutoCloseable {
    private final XenStore xs;
    private final BackendBus bus;
    private final Map<DeviceId, Map<String, String>> offers = new ConcurrentHashMap<>();
    private final List<String> log = new CopyOnWriteArrayList<>();

    NetbackBus(XenStore xs, BackendDriver driver) {
        this(xs, driver, null);
    }

    /** With {@code policy} deciding every offer (null: the fixed offers of {@link #offer}). */
    NetbackBus(XenStore xs, BackendDriver driver, NegotiationPolicy policy) {
        this.xs = xs;
        this.bus = new BackendBus(xs, policy != null ? policy : new FixedOffers(xs, offers), OperatorLog.lines(line -> {
            log.add(line);
            System.out.println("backend: " + line);
        }), new BackendBus.Options(0, true));
        bus.addDriver(driver);
    }

    /** The offer (SimNet's, with this many queues) the vif gets when it appears; returns its id. */
    DeviceId offer(int domid, int devid, int maxQueues) {
        DeviceId id = new DeviceId(0, "vif", domid, devid);
        offers.put(id, SimNet.offer(maxQueues));
        return id;
    }

    /** SimNet's offer of this many queues with {@code more} keys added or replaced; returns the vif's id. */
    DeviceId offer(int domid, int devid, int maxQueues, Map<String, String> more) {
        DeviceId id = new DeviceId(0, "vif", domid, devid);
        Map<String, String> offer = new java.util.HashMap<>(SimNet.offer(maxQueues));
        offer.putAll(more);
        offers.put(id, Map.copyOf(offer));
        return id;
    }

    /** The given offer for the vif when it appears; returns its id. */
    DeviceId offer(int domid, int devid, Map<String, String> offer) {
        DeviceId id = new DeviceId(0, "vif", domid, devid);
        offers.put(id, Map.copyOf(offer));
        return id;
    }

    /**
     * What {@code pv:request DEV key value} does for a key that needs a reconnect: the policy
     * publishes the new offer, then the core takes the device through Closing and back.
     */
    void change(DeviceId id, String key, String value) {
        Map<String, String> offer = new java.util.HashMap<>(offers.get(id));
        offer.put(key, value);
        offers.put(id, Map.copyOf(offer));
        xs.write(id.backendPath() + "/" + key, value);
        bus.offerChanged(new Negotiation(id, offers.get(id), List.of(), Set.of(key), true));
    }

    /** {@code pv:request DEV feature value}: the request key, answered by the policy's negotiation. */
    Negotiation request(DeviceId id, String feature, String value) {
        return bus.request(id, feature, value, java.time.Duration.ofSeconds(10));
    }

    /** A re-negotiation to {@code offer} (published in the backend directory), then through Closing. */
    void reconnect(DeviceId id, Map<String, String> offer, XenStore xs) {
        offers.put(id, Map.copyOf(offer));
        xs.transaction(tx -> {
            offer.forEach((k, v) -> tx.write(id.backendPath() + "/" + k, v));
            return null;
        });
        bus.offerChanged(new Negotiation(id, offers.get(id), List.of(), offer.keySet(), true));
    }

    /** The driver's status of a device the bus serves. */
    Map<String, String> status(DeviceId id) {
        return bus.device(id).map(DeviceView::status)
                .orElseThrow(() -> new AssertionError(id + " is not served; log:\n" + logText(id)));
    }

    List<io.backplane.api.backend.StrategySwap> swap(DeviceId id, String strategy) {
        return bus.swapStrategy(id, strategy, java.time.Duration.ofSeconds(10));
    }

    boolean serves(DeviceId id) {
        return bus.device(id).isPresent();
    }

    /** The driver has probed the device (its status says what it opened). */
    boolean probed(DeviceId id) {
        return bus.device(id).map(v -> !v.status().isEmpty()).orElse(false);
    }

    /** What an admin policy edit of a reconnect-only feature does: the core drives the device through Closing. */
    void reconnect(DeviceId id) {
        bus.offerChanged(new Negotiation(id, offers.get(id), List.of(), Set.of("multi-queue-max-queues"), true));
    }

    /** What the core logged about the device. */
    String logText(DeviceId id) {
        return log.stream().filter(l -> l.contains(id.toString())).collect(Collectors.joining("\n"));
    }

    /** Removes the test's backend directories, as xl destroy does, then stops the core. */
    @Override
    public void close() {
        offers.keySet().forEach(id -> {
            if (xs.exists(id.backendPath())) {
                xs.rm(id.backendPath());
            }
        });
        bus.close();
    }

    /** Publishes the registered offer as the policy would, in one transaction (shared with {@link NetReattachFixture}). */
    record FixedOffers(XenStore xs, Map<DeviceId, Map<String, String>> offers) implements NegotiationPolicy {
        @Override
        public Negotiation negotiate(DeviceId device) {
            Negotiation n = preview(device);
            xs.transaction(tx -> {
                n.offer().forEach((k, v) -> tx.write(device.backendPath() + "/" + k, v));
                return null;
            });
            return n;
        }

        @Override
        public Negotiation preview(DeviceId device) {
            Map<String, String> offer = offers.get(device);
            if (offer == null) {
                throw new IllegalArgumentException(device + ": the test gave no offer for it");
            }
            return new Negotiation(device, offer, List.of(), Set.of(), false);
        }
    }
}
