package io.backplane.backend;

import io.backplane.api.backend.StrategySwap;
import io.backplane.api.device.DeviceId;
import io.backplane.api.device.Negotiation;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** The devices the xenbus core drives, as the {@code pv:} commands see them (bundle-private service). */
public interface DeviceRegistry {

    List<DeviceView> devices();

    Optional<DeviceView> device(DeviceId id);

    /**
     * Writes {@code request-<feature> = value} in the device's backend directory, as the toolstack
     * would, and waits for the negotiation that answers it (the watch on the backend directory runs
     * it, and drives a reconnect when the change needs one). The answer to this request is the
     * outcome whose {@code requestedAs} is {@code feature}; {@code needsReconnect} says whether
     * the device is reconnecting to apply it.
     *
     * @throws IllegalArgumentException when the core drives no such device
     * @throws IllegalStateException    when no answer came within {@code timeout}
     */
    Negotiation request(DeviceId id, String feature, String value, Duration timeout);

    /**
     * Hot swap: moves every ring of the connected device to {@code strategy} (null: the fittest),
     * on the device's executor, so it never races a connect or disconnect. See
     * {@link io.backplane.api.backend.BackendDevice#swapStrategy}.
     *
     * @throws IllegalArgumentException when the core drives no such device
     * @throws io.backplane.api.backend.DeviceException when the device refuses (not connected, unfit)
     * @throws IllegalStateException    when it did not finish within {@code timeout}
     */
    List<StrategySwap> swapStrategy(DeviceId id, String strategy, Duration timeout);
}
