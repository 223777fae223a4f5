package io.backplane.blkback;

import io.backplane.api.device.DeviceId;
import io.backplane.api.xenstore.XenStore;
import io.backplane.backend.DeviceView;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * One vbd as a test sees it, served by backend-core's lifecycle ({@link VbdBus}): what the core
 * logged about it, the reasons it failed with (xenbus_dev_fatal), its states and blkback's status.
 */
final class VbdHarness implements AutoCloseable {
    private static final String FATAL = ": fatal: ";
    final DeviceId id;
    final List<String> logs = new CopyOnWriteArrayList<>();
    final List<String> fatals = new CopyOnWriteArrayList<>();
    private final XenStore xs;
    private final VbdBus bus;

    VbdHarness(XenStore xs, VbdBus bus, int domid, int devid) {
        this.xs = xs;
        this.bus = bus;
        this.id = new DeviceId(0, "vbd", domid, devid);
    }

    void logged(String line) {
        logs.add(line);
        int at = line.indexOf(FATAL);
        if (at >= 0) {
            fatals.add(line.substring(at + FATAL.length()));
        }
    }

    private long connects() {
        return logs.stream().filter(l -> l.contains(": frontend connected")).count();
    }

    /** A re-negotiation: the policy publishes a new offer in the backend directory and holds the device to it. */
    void publishOffer(Map<String, String> newOffer) {
        newOffer.forEach((k, v) -> xs.write(id.backendPath() + "/" + k, v));
        bus.hold(id, newOffer);
    }

    /**
     * Backend-driven reconnect (pv:request of a reconnect feature): the core disconnects and goes
     * Closing; the frontend closes and asks again, the device connects anew. Returns once it has.
     */
    void reconnect() throws Exception {
        long before = connects();
        bus.offerChanged(id);
        long end = System.currentTimeMillis() + 20_000;
        while (connects() == before) {
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
        return bus.device(id).map(DeviceView::status).orElseThrow(() -> new AssertionError(id + " is not served; logs " + logs));
    }

    /** libxl's destroy: the backend directory goes, and the core removes the device. */
    @Override
    public void close() throws InterruptedException {
        if (xs.exists(id.backendPath())) {
            xs.rm(id.backendPath());
        }
        long end = System.currentTimeMillis() + 10_000;
        while (bus.device(id).isPresent()) {
            if (System.currentTimeMillis() > end) {
                throw new AssertionError(id + " was not removed; logs " + logs);
            }
            Thread.sleep(10);
        }
    }
}
