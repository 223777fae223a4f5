package io.backplane.netback;

import io.backplane.api.backend.BackendContext;
import io.backplane.api.backend.BackendDevice;
import io.backplane.api.backend.BackendDriver;
import io.backplane.api.backend.DeviceException;
import io.backplane.api.device.DeviceId;
import io.backplane.api.device.Negotiation;
import io.backplane.api.xenstore.XenStore;
import io.backplane.api.xenstore.XsWatch;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The backend half of the xenbus lifecycle for one device, as small as the driver needs until
 * backend-core is on main, following its protocol (docs/backends.md): publish the offer,
 * hotplug-status, InitWait, connect when the frontend is Connected, Closing on a fatal error,
 * Closed once the frontend is, InitWait again when the frontend comes back to Initialising.
 */
final class XenbusHarness implements BackendContext, AutoCloseable {
    private final XenStore xs;
    private final DeviceId id;
    private final Map<String, String> offer;
    private final ExecutorService thread = Executors.newSingleThreadExecutor();
    private final StringBuilder log = new StringBuilder();
    private BackendDevice device;
    private XsWatch watch;
    private volatile int state;

    XenbusHarness(XenStore xs, DeviceId id, Map<String, String> offer) {
        this.xs = xs;
        this.id = id;
        this.offer = Map.copyOf(offer);
    }

    void probe(BackendDriver driver) {
        offer.forEach((k, v) -> xs.write(id.backendPath() + "/" + k, v));
        device = driver.probe(this);
        xs.write(id.backendPath() + "/hotplug-status", "connected");   // the core's writeHotplugStatus
        setState(2);
        watch = xs.watch(id.frontendPath() + "/state", "harness", (p, t) -> thread.execute(this::frontendChanged));
    }

    BackendDevice device() {
        return device;
    }

    private void frontendChanged() {
        int fe = Integer.parseInt(xs.tryRead(id.frontendPath() + "/state").orElse("0"));
        if ((fe == 3 || fe == 4) && state == 2) {
            if (!"connected".equals(xs.tryRead(id.backendPath() + "/hotplug-status").orElse(""))) {
                return;
            }
            try {
                device.connect();
                setState(4);
            } catch (DeviceException e) {
                fatal(e.getMessage());
            }
        } else if (fe == 6 && state == 5) {
            device.disconnect();
            setState(6);
        } else if (fe == 1 && state == 6) {
            setState(2);                     // the frontend wants to reconnect
        } else if (fe == 6 || fe == 5) {
            if (state == 4) {
                device.disconnect();
                setState(5);
            }
        }
    }

    /** The backend drives the device through Closing (a feature change that needs a reconnect). */
    void closing() {
        thread.execute(() -> setState(5));
    }

    int state() {
        return state;
    }

    private void setState(int s) {
        state = s;
        xs.write(id.backendPath() + "/state", Integer.toString(s));
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

    /** xenbus_dev_fatal(): error nodes, then Closing; the device is disconnected off the caller's thread. */
    @Override
    public void fatal(String reason) {
        xs.write("/local/domain/0/error/backend/" + id.type() + "/" + id.frontendDomid() + "/" + id.devid() + "/error", reason);
        xs.write(id.backendPath() + "/error", reason);
        log("fatal: " + reason);
        setState(5);
        thread.execute(device::disconnect);
    }

    @Override
    public synchronized void log(String message) {
        log.append(id).append(": ").append(message).append('\n');
        System.out.println(id + ": " + message);
    }

    synchronized String logText() {
        return log.toString();
    }

    @Override
    public void close() {
        if (watch != null) {
            watch.close();
        }
        thread.shutdown();
        if (device != null) {
            device.remove();
        }
    }
}
