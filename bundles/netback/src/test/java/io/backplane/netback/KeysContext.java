package io.backplane.netback;

import io.backplane.api.backend.BackendContext;
import io.backplane.api.device.DeviceId;
import io.backplane.api.device.Negotiation;
import io.backplane.api.xenstore.XenStore;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What netback's key reading needs of a device and nothing more: its XenStore paths, an offer
 * and a log. The lifecycle around it is backend-core's ({@link NetbackBus} in the data-path tests).
 */
final class KeysContext implements BackendContext {
    private final XenStore xs;
    private final DeviceId id;
    private final Map<String, String> offer;
    private final StringBuilder log = new StringBuilder();

    KeysContext(XenStore xs, DeviceId id, Map<String, String> offer) {
        this.xs = xs;
        this.id = id;
        this.offer = Map.copyOf(offer);
    }

    @Override
    public DeviceId id() {
        return id;
    }

    @Override
    public XenStore xenstore() {
        return xs;
    }

    @Override
    public Negotiation negotiation() {
        return new Negotiation(id, offer, List.of(), Set.of(), false);
    }

    @Override
    public Optional<String> backendKey(String key) {
        return xs.tryRead(id.backendPath() + "/" + key);
    }

    @Override
    public Optional<String> frontendKey(String key) {
        return xs.tryRead(id.frontendPath() + "/" + key);
    }

    @Override
    public void fatal(String reason) {
        throw new AssertionError("reading keys is never fatal by itself: " + reason);
    }

    @Override
    public synchronized void log(String message) {
        log.append(id).append(": ").append(message).append('\n');
    }

    synchronized String logText() {
        return log.toString();
    }
}
