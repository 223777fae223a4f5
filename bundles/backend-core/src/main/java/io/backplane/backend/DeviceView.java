package io.backplane.backend;

import io.backplane.api.device.DeviceId;
import io.backplane.api.device.Negotiation;
import io.backplane.api.backend.XenbusState;

import java.util.Map;
import java.util.Optional;

/**
 * A snapshot of one device for the shell.
 *
 * @param driverType  the driver serving it
 * @param backend     the state the core last wrote
 * @param frontend    the frontend state the core last read
 * @param status      the driver's status (strategy, queues, ring order, counters); empty before probe
 * @param negotiation the last offer the policy published for it, if probed
 * @param lastError   the reason of the last fatal error, if any
 */
public record DeviceView(DeviceId id, String driverType, XenbusState backend, XenbusState frontend,
                         Map<String, String> status, Optional<Negotiation> negotiation, Optional<String> lastError) {
}
