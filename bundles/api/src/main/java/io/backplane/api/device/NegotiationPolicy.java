package io.backplane.api.device;

/**
 * The per-device feature policy. A backend calls {@link #negotiate} when it probes a device,
 * before it writes {@code state=2} (InitWait), and again whenever a {@code request-*} key
 * appears in a live device's backend directory. The layout it reads and writes is described in
 * docs/feature-control.md.
 */
public interface NegotiationPolicy {

    /**
     * Reads the device's requests, decides each against the backend type's capabilities and the
     * admin policy, and in one XenStore transaction publishes the offer, records each outcome
     * under {@code feature-control/} and removes the request keys that were accepted.
     *
     * @throws IllegalArgumentException when no capabilities are registered for the device type
     */
    Negotiation negotiate(DeviceId device);

    /** The same decision as {@link #negotiate}, with nothing written (for shells and dry runs). */
    Negotiation preview(DeviceId device);
}
