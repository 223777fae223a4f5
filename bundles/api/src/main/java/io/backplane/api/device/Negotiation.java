package io.backplane.api.device;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The result of negotiating one device.
 *
 * @param device     the device
 * @param offer      every feature key of the device type with the value published for the frontend, by key
 * @param outcomes   one entry per request found, in feature order
 * @param changed    keys whose published value differs from what was there before
 * @param needsReconnect true when a changed key is one that only takes effect after a reconnect
 */
public record Negotiation(DeviceId device, Map<String, String> offer, List<RequestOutcome> outcomes,
                          Set<String> changed, boolean needsReconnect) {

    public Negotiation {
        offer = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(offer));
        outcomes = List.copyOf(outcomes);
        changed = Set.copyOf(changed);
    }
}
