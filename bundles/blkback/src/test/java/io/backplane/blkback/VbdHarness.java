package io.backplane.blkback;

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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * What the xenbus core does for one vbd, reduced to what blkback's tests need until
 * backend-core lands: probe, InitWait, connect when the frontend is Initialised, Connected,
 * xenbus_dev_fatal (error node, Closing), and a reconnect through Closing. Everything runs on
 * one thread per device, as the core promises drivers.
 */
final class VbdHarness implements AutoCloseable {
    final DeviceId id;
    final List<String> logs = new CopyOnWriteArrayList<>();
    final List<String> fatals = new CopyOnWriteArrayList<>();
    private final XenStore xs;
    private volatile Map<String, String> offer;
    private final ExecutorService xenbus = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "test-xenbus");
        t.setDaemon(true);
        return t;
    });
    private final BackendDevice device;
    private final XsWatch watch;
    private volatile boolean connected;
    private final java.util.concurrent.atomic.AtomicInteger connects = new java.util.concurrent.atomic.AtomicInteger();

    VbdHarness(XenStore xs, BackendDriver driver, int domid, int devid, Map<String, String> offer) {
        this.xs = xs;
        this.id = new DeviceId(0, "vbd", domid, devid);
        this.offer = Map.copyOf(offer);
        this.device = driver.probe(new Context());
        xs.write(id.backendPath() + "/state", "2");
        this.watch = xs.watch(id.frontendPath() + "/state", "harness-" + devid,
                (path, token) -> xenbus.execute(this::frontendChanged));
    }

    private void frontendChanged() {
        String fe = xs.tryRead(id.frontendPath() + "/state").orElse("");
        String be = xs.tryRead(id.backendPath() + "/state").orElse("");
        if ((fe.equals("3") || fe.equals("4")) && be.equals("2")) {
            try {
                device.connect();
                connected = true;
                xs.write(id.backendPath() + "/state", "4");
                connects.incrementAndGet();
            } catch (DeviceException e) {
                fatal(e.getMessage());
            }
        } else if (fe.equals("5") || fe.equals("6")) {
            if (connected) {
                device.disconnect();
                connected = false;
            }
            if (fe.equals("6") && !be.equals("6")) {
                xs.write(id.backendPath() + "/state", "6");
            }
        } else if (fe.equals("1") && be.equals("6")) {
            xs.write(id.backendPath() + "/state", "2"); // "prepare for reconnect"
        }
    }

    /** A re-negotiation: the policy publishes a new offer in the backend directory. */
    void publishOffer(Map<String, String> newOffer) {
        newOffer.forEach((k, v) -> xs.write(id.backendPath() + "/" + k, v));
        offer = Map.copyOf(newOffer);
    }

    /**
     * Backend-driven reconnect (pv:request of a reconnect feature): disconnect, Closing; the
     * frontend closes and asks again (6, then 1), the backend goes Closed then InitWait, and the
     * device connects anew. Returns once it has.
     */
    void reconnect() throws Exception {
        int before = connects.get();
        xenbus.submit(() -> {
            device.disconnect();
            connected = false;
            xs.write(id.backendPath() + "/state", "5");
        }).get(10, TimeUnit.SECONDS);
        long end = System.currentTimeMillis() + 20_000;
        while (connects.get() == before) {
            if (System.currentTimeMillis() > end) {
                throw new AssertionError(id + " did not reconnect; frontend state "
                        + xs.tryRead(id.frontendPath() + "/state").orElse("gone") + ", logs " + logs);
            }
            Thread.sleep(10);
        }
    }

    void awaitFrontendState(String state, long millis) throws InterruptedException {
        long end = System.currentTimeMillis() + millis;
        while (!state.equals(xs.tryRead(id.frontendPath() + "/state").orElse(""))) {
            if (System.currentTimeMillis() > end) {
                throw new AssertionError("frontend of " + id + " did not reach state " + state + " (is "
                        + xs.tryRead(id.frontendPath() + "/state").orElse("gone") + "); logs " + logs);
            }
            Thread.sleep(10);
        }
    }

    String backendState() {
        return xs.tryRead(id.backendPath() + "/state").orElse("");
    }

    Map<String, String> status() {
        return device.status();
    }

    private void fatal(String reason) {
        fatals.add(reason);
        // xenbus_dev_fatal: error/<nodename>/error in the backend's domain, and the device closes.
        xs.write("/local/domain/0/error/backend/vbd/" + id.frontendDomid() + "/" + id.devid() + "/error", reason);
        xs.write(id.backendPath() + "/error", reason);
        xenbus.execute(() -> {
            device.disconnect();
            connected = false;
            xs.write(id.backendPath() + "/state", "5");
        });
    }

    @Override
    public void close() throws InterruptedException {
        watch.close();
        xenbus.execute(device::remove);
        xenbus.shutdown();
        xenbus.awaitTermination(10, TimeUnit.SECONDS);
    }

    private final class Context implements BackendContext {
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
            VbdHarness.this.fatal(reason);
        }

        @Override
        public void log(String message) {
            logs.add(message);
            System.err.println(id + ": " + message);
        }
    }
}
