package io.backplane.backend;

import io.backplane.api.backend.BackendDriver;
import io.backplane.api.backend.XenbusKeys;
import io.backplane.api.device.DeviceId;
import io.backplane.api.xenstore.XenStore;
import io.backplane.api.xenstore.XsWatch;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * One driver's share of the bus, as xenbus_probe_backend.c has per device type: a watch on
 * {@code /local/domain/<backend>/backend/<type>}, probing each device directory that appears
 * and handing later changes to that device's lifecycle.
 */
final class DriverWatch {
    /** Keys the toolstack writes with the device (in one transaction); a probe needs them all. */
    private static final List<String> REQUIRED = List.of(XenbusKeys.FRONTEND, XenbusKeys.FRONTEND_ID, XenbusKeys.ONLINE,
            XenbusKeys.STATE);

    private final BackendDriver driver;
    private final String base;
    private final DeviceLifecycle.Bus bus;
    private final Executor pool;
    private final Executor discovery;
    private final Map<DeviceId, DeviceLifecycle> devices = new ConcurrentHashMap<>();
    /** Devices left to their live owner, as they were then: the next look at one starts with its claim. */
    private final Map<DeviceId, DeviceAdoption.Left> left = new ConcurrentHashMap<>();
    private XsWatch watch;
    /** Set by {@link #stop}: late watch events and queued discoveries are dropped (the executor may be gone). */
    private volatile boolean stopped;

    DriverWatch(BackendDriver driver, DeviceLifecycle.Bus bus, Executor pool) {
        this.driver = driver;
        this.bus = bus;
        this.pool = pool;
        this.base = "/local/domain/" + bus.options().backendDomid() + "/backend/" + driver.deviceType();
        this.discovery = new SerialExecutor(pool, t -> bus.log().error(driver.deviceType() + " backend: discovery failed: " + t, t));
    }

    String type() {
        return driver.deviceType();
    }

    BackendDriver driver() {
        return driver;
    }

    Collection<DeviceLifecycle> devices() {
        return devices.values();
    }

    DeviceLifecycle device(DeviceId id) {
        return devices.get(id);
    }

    void start() {
        // The watch fires once at registration: that event scans what is already there.
        watch = bus.xenStore().watch(base, "backend:" + base, (path, token) -> onEvent(path));
    }

    /** On the XenStore event thread: never call XenStore here, only route. */
    private void onEvent(String path) {
        if (stopped) {
            return;
        }
        if (!path.startsWith(base + "/")) {
            discovery.execute(this::scan);
            return;
        }
        DeviceId id;
        try {
            id = DeviceId.fromBackendPath(path);
        } catch (IllegalArgumentException e) {
            // backend/<type>/<domid> itself: a frontend domain's directory appeared or went.
            discovery.execute(this::scan);
            return;
        }
        DeviceLifecycle known = devices.get(id);
        if (known != null) {
            known.backendChanged(path);
        } else {
            discovery.execute(() -> discover(id, path));
        }
    }

    private void scan() {
        XenStore xs = bus.xenStore();
        for (String domid : children(base)) {
            for (String devid : children(base + "/" + domid)) {
                if (domid.matches("\\d{1,5}") && devid.matches("\\d{1,9}")) {
                    try {
                        DeviceId id = new DeviceId(bus.options().backendDomid(), driver.deviceType(),
                                Integer.parseInt(domid), Integer.parseInt(devid));
                        discover(id, id.backendPath());
                    } catch (IllegalArgumentException e) {
                        bus.log().warn(driver.deviceType() + " backend: ignoring " + base + "/" + domid + "/" + devid
                                + ": " + e.getMessage());
                    }
                }
            }
        }
        if (!xs.exists(base)) {
            devices.values().forEach(d -> d.backendChanged(d.id().backendPath()));
        }
    }

    private void discover(DeviceId id, String path) {
        DeviceLifecycle known = devices.get(id);
        if (known != null) {
            known.backendChanged(path);
            return;
        }
        DeviceAdoption.Left leftTo = left.remove(id);
        if (leftTo != null && leftTo.record().generation().isPresent()) {
            // Left to an owner that has died or let it go, or a change under its directory: the
            // claim checks what these reads would, in the round trip it needs anyway.
            if (!start(id, device -> device.start(leftTo))) {
                leftTo.drop();
                return;
            }
            bus.log().info(id + ": claiming it on what was read when it was left to "
                    + leftTo.record().owner().orElse("its owner"));
            return;
        }
        if (leftTo != null) {
            leftTo.drop();
        }
        XenStore xs = bus.xenStore();
        String be = id.backendPath();
        // Read together: an adopter's pause waits for these.
        List<Optional<String>> values = xs.tryReadAll(REQUIRED.stream().map(k -> be + "/" + k).toList());
        if (values.stream().anyMatch(Optional::isEmpty)) {
            return; // not (yet) a device directory: the toolstack is still writing it, or it is going
        }
        if (!"1".equals(values.get(REQUIRED.indexOf(XenbusKeys.ONLINE)).get())) {
            return; // offline: being torn down, or removed already
        }
        bus.log().info(id + ": new " + driver.deviceType() + " device, frontend "
                + values.get(REQUIRED.indexOf(XenbusKeys.FRONTEND)).get());
        start(id, DeviceLifecycle::start);
    }

    /** False when the driver went away meanwhile: nothing started. */
    private boolean start(DeviceId id, Consumer<DeviceLifecycle> start) {
        DeviceLifecycle device = new DeviceLifecycle(id, driver, bus, pool);
        synchronized (this) {
            if (stopped) {
                return false; // the driver went away while this was queued: its successor probes the device
            }
            devices.put(id, device);
        }
        start.accept(device);
        return true;
    }

    void rediscover(DeviceId id, String path) {
        discovery.execute(() -> discover(id, path));
    }

    /** Keeps what was learned of a device left to its owner; what was kept before for it is dropped. */
    void remember(DeviceId id, DeviceAdoption.Left device) {
        DeviceAdoption.Left dropped;
        synchronized (this) {
            dropped = stopped ? device : left.put(id, device);   // stopped: nobody adopts on it here
        }
        if (dropped != null) {
            dropped.drop();
        }
    }

    void forget(DeviceLifecycle device) {
        devices.remove(device.id(), device);
    }

    /**
     * Unwatches and closes every device (the driver is going away), or with {@code handOver}
     * leaves each as it stands for a successor to adopt ({@link DeviceLifecycle#handOver}).
     */
    CompletableFuture<Void> stop(String reason, boolean handOver) {
        CompletableFuture<Void> done = stopDevices(reason, handOver, new ArrayList<>());
        unwatch();
        return done;
    }

    /**
     * The first half of {@link #stop}: no event is acted on any more and every device's close or
     * hand-over is queued on its own executor. A hand-over of every driver's devices queues them
     * all before any unwatch goes to xenstored: a standby waits for each.
     *
     * @param released gets each handed-over device's release ({@link DeviceLifecycle#handOver})
     */
    CompletableFuture<Void> stopDevices(String reason, boolean handOver, List<CompletableFuture<Void>> released) {
        List<DeviceLifecycle> closing;
        List<DeviceAdoption.Left> dropped;
        synchronized (this) {
            stopped = true;
            closing = List.copyOf(devices.values());
            dropped = List.copyOf(left.values());
            left.clear();
        }
        dropped.forEach(DeviceAdoption.Left::drop);     // what a standby prepared for devices it will not adopt now
        List<CompletableFuture<Void>> done = new ArrayList<>();
        for (DeviceLifecycle d : closing) {
            if (handOver) {
                CompletableFuture<Void> let = new CompletableFuture<>();
                released.add(let);
                done.add(d.handOver(reason, let));
            } else {
                done.add(d.stop(reason));
            }
        }
        return CompletableFuture.allOf(done.toArray(CompletableFuture[]::new));
    }

    /** The second half of {@link #stop}: the watch removed. */
    void unwatch() {
        XsWatch w;
        synchronized (this) {
            w = watch;
            watch = null;           // a second stop (the runtime handed everything over first) unwatches nothing
        }
        if (w != null) {
            try {
                w.close();
            } catch (RuntimeException e) {
                bus.log().warn(driver.deviceType() + " backend: unwatch failed: " + e.getMessage());
            }
        }
    }

    private List<String> children(String path) {
        try {
            return bus.xenStore().exists(path) ? bus.xenStore().directory(path) : List.of();
        } catch (RuntimeException e) {
            return List.of();
        }
    }
}
