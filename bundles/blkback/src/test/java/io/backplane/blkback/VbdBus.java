package io.backplane.blkback;

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
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * backend-core's real xenbus lifecycle ({@link BackendBus}) serving blkback for one test world.
 * The negotiation policy is replaced by the offer each test holds its device to (the policy
 * bundle has its own tests); what the frontend reads was written with the device by libxl's
 * transaction ({@link SimWorld#createVbd}), so a test can make the two differ on purpose.
 */
final class VbdBus implements AutoCloseable {
    private final BackendBus bus;
    private final Map<DeviceId, Map<String, String>> held = new ConcurrentHashMap<>();
    private final Map<DeviceId, VbdHarness> devices = new ConcurrentHashMap<>();

    VbdBus(XenStore xs, BackendDriver blkback) {
        this(xs, blkback, null);
    }

    /** With {@code policy} deciding every offer (null: the offers the test holds). */
    VbdBus(XenStore xs, BackendDriver blkback, NegotiationPolicy policy) {
        this.bus = new BackendBus(xs, policy != null ? policy : new HeldOffers(), OperatorLog.lines(this::logged),
                new BackendBus.Options(0, true));
        bus.addDriver(blkback);
    }

    /** Hands the core's lines about {@code device} to it, its offer being the policy's. */
    void track(VbdHarness device) {
        devices.put(device.id, device);
    }

    /** Registers the device before its directories appear: the bus probes it at once. */
    void expect(VbdHarness device, Map<String, String> offer) {
        held.put(device.id, Map.copyOf(offer));
        devices.put(device.id, device);
    }

    void hold(DeviceId id, Map<String, String> offer) {
        held.put(id, Map.copyOf(offer));
    }

    /** What an admin policy edit of a reconnect-only feature does: the core drives the device through Closing. */
    void offerChanged(DeviceId id) {
        bus.offerChanged(new Negotiation(id, held.get(id), List.of(), held.get(id).keySet(), true));
    }

    List<io.backplane.api.backend.StrategySwap> swap(DeviceId id, String strategy) {
        return bus.swapStrategy(id, strategy, java.time.Duration.ofSeconds(10));
    }

    /** What XenbusBackend does when the registry reports a newly registered strategy. */
    void strategyAdded(String name, io.backplane.api.ring.RingStrategies strategies, boolean autoSwap) {
        bus.strategyAdded(name, strategies, autoSwap);
    }

    Optional<DeviceView> device(DeviceId id) {
        return bus.device(id);
    }

    @Override
    public void close() {
        bus.close();
    }

    private final class HeldOffers implements NegotiationPolicy {
        @Override
        public Negotiation negotiate(DeviceId device) {
            return preview(device);
        }

        @Override
        public Negotiation preview(DeviceId device) {
            Map<String, String> offer = held.get(device);
            if (offer == null) {
                throw new IllegalArgumentException(device + ": the test holds no offer for it");
            }
            return new Negotiation(device, offer, List.of(), Set.of(), false);
        }
    }

    /** Hands each line of the core's log to the device it is about. */
    private void logged(String line) {
        System.err.println("backend: " + line);
        devices.values().stream().filter(d -> line.startsWith(d.id + ": ")).forEach(d -> d.logged(line));
    }
}
