package io.backplane.api.device;

/**
 * Whiteboard service a backend registers to hear about offers the policy changed on its own:
 * when the admin edits the policy, the policy re-negotiates every live device and calls every
 * listener whose {@link DeviceCapabilities#DEVICE_TYPE} property matches (or that has none).
 * A backend reconnects the device when {@link Negotiation#needsReconnect()} says so.
 */
public interface NegotiationListener {
    void offerChanged(Negotiation negotiation);
}
