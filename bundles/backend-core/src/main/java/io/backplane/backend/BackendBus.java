package io.backplane.backend;

import io.backplane.api.backend.BackendDevice;
import io.backplane.api.backend.BackendDriver;
import io.backplane.api.backend.StrategySwap;
import io.backplane.api.backend.XenbusState;
import io.backplane.api.device.DeviceId;
import io.backplane.api.device.FeatureControlLayout;
import io.backplane.api.device.Negotiation;
import io.backplane.api.device.NegotiationPolicy;
import io.backplane.api.device.RequestSource;
import io.backplane.api.log.OperatorLog;
import io.backplane.api.ring.RingRequest;
import io.backplane.api.ring.RingStrategies;
import io.backplane.api.xenstore.XenStore;
import io.backplane.api.xenstore.XsPerm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.IntUnaryOperator;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * The xenbus backend bus: one {@link DriverWatch} per registered driver, one
 * {@link DeviceLifecycle} per device directory. Plain Java so it runs against a XenStore without
 * OSGi; {@link XenbusBackend} is its DS face.
 */
public final class BackendBus implements DeviceRegistry, AutoCloseable {

    /**
     * @param backendDomid       the domain whose {@code backend/} directory is served (0: dom0)
     * @param writeHotplugStatus write {@code hotplug-status=connected} after probing a device that
     *                           needs it, as Xen's hotplug scripts do (true where no scripts run: sim mode)
     * @param keepDevices        when the bus closes or a driver goes away, hand each device over
     *                           (answered, unmapped, left Connected and recorded) for the next
     *                           backend to adopt, instead of closing it
     * @param stateDir           the runtime's state directory, where each device keeps the files a
     *                           successor needs ({@code BackendContext.stateDirectory()}); null: none
     */
    public record Options(int backendDomid, boolean writeHotplugStatus, boolean keepDevices, Path stateDir) {
        public Options(int backendDomid, boolean writeHotplugStatus) {
            this(backendDomid, writeHotplugStatus, false);
        }

        public Options(int backendDomid, boolean writeHotplugStatus, boolean keepDevices) {
            this(backendDomid, writeHotplugStatus, keepDevices, null);
        }
    }

    /** The nice an instance's threads drop to once it has let every device go: the lowest. */
    static final int HANDED_OVER_NICE = 19;
    /**
     * Threads of the devices' pool kept waiting however long idle (the rest end after a minute):
     * a discovery and a device's claim after minutes of quiet, a standby's, go to threads
     * already running. Under emulation a new thread first ran 0.1-0.4 s after its start, and an
     * adoption's watch event reached its claim through two of them.
     */
    static final int KEPT_THREADS = 4;

    private final XenStore xenStore;
    private final NegotiationPolicy policy;
    private final OperatorLog log;
    /** Replaced in place by {@link #options(Options)}; read at each probe and connect. */
    private volatile Options options;
    private final ExecutorService pool;
    private final Map<String, DriverWatch> drivers = new ConcurrentHashMap<>();
    private final DeviceLifecycle.Bus services;
    private final OwnerWatch owners;
    /** Loads the classes an adoption runs and says what (set by the DS face; nothing, without one). */
    private volatile Supplier<String> adoptionCode = () -> "";
    private boolean preloaded;
    /** Loads a newly bound driver's classes beside the adoption of its devices (set by the DS face; nothing, without one). */
    private volatile Consumer<BackendDriver> driverCode = driver -> { };
    /** True while no ring strategy at all is registered (set by the DS face; never, without one). */
    private volatile BooleanSupplier noRingStrategy = () -> false;
    /** Lowers every thread of this process to the given nice, returning how many (set by the DS face; nothing, without one). */
    private volatile IntUnaryOperator niceAllThreads = nice -> 0;

    public BackendBus(XenStore xenStore, NegotiationPolicy policy, OperatorLog log, Options options) {
        this.xenStore = xenStore;
        this.policy = policy;
        this.log = log;
        this.options = options;
        AtomicInteger threads = new AtomicInteger();
        ThreadPoolExecutor devices = new ThreadPoolExecutor(KEPT_THREADS, Integer.MAX_VALUE, 60, TimeUnit.SECONDS,
                new SynchronousQueue<>(), r -> {
                    Thread t = new Thread(r, "xenbus-backend-" + threads.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        devices.prestartAllCoreThreads();
        this.pool = devices;
        this.services = new DeviceLifecycle.Bus() {
            @Override
            public XenStore xenStore() {
                return xenStore;
            }

            @Override
            public NegotiationPolicy policy() {
                return policy;
            }

            @Override
            public OperatorLog log() {
                return log;
            }

            @Override
            public Options options() {
                return options;
            }

            @Override
            public boolean noRingStrategy() {
                return noRingStrategy.getAsBoolean();
            }

            @Override
            public void forget(DeviceLifecycle device) {
                DriverWatch w = drivers.get(device.id().type());
                if (w != null) {
                    w.forget(device);
                }
            }

            @Override
            public void rediscover(DeviceId id, String path) {
                DriverWatch w = drivers.get(id.type());
                if (w != null) {
                    w.rediscover(id, path);
                }
            }

            @Override
            public void watchOwner(DeviceId id, String owner) {
                owners.watch(id, owner);
            }

            @Override
            public void remember(DeviceId id, DeviceAdoption.Left left) {
                DriverWatch w = drivers.get(id.type());
                if (w != null) {
                    w.remember(id, left);
                } else {
                    left.drop();                   // the driver or the bus went meanwhile: nobody adopts on it here
                }
            }

            @Override
            public void unwatchOwner(DeviceId id) {
                owners.unwatch(id);
            }

            @Override
            public String preloadAdoptionCode() {
                synchronized (BackendBus.this) {
                    if (preloaded) {
                        return "";
                    }
                    preloaded = true;
                }
                return adoptionCode.get();
            }
        };
        this.owners = new OwnerWatch(log, services::rediscover);
    }

    public Options options() {
        return options;
    }

    /**
     * New options for the devices probed and connected from now on; the domain served cannot change
     * in place (a new bus serves another domain's {@code backend/} directory).
     */
    public void options(Options changed) {
        if (changed.backendDomid() != options.backendDomid()) {
            throw new IllegalArgumentException("backend domain " + options.backendDomid() + " cannot change in place");
        }
        options = changed;
    }

    /**
     * How to load the classes an adoption runs (a standby does it once, when it first leaves a
     * device to its live owner); the supplier says what it loaded, for the log.
     */
    public void adoptionCode(Supplier<String> preload) {
        adoptionCode = preload;
    }

    /**
     * How to load the classes of a driver as it is bound (after a bundle update its new
     * revision's code has not run yet, and the devices its predecessor handed over wait for it):
     * called before the bus looks for the driver's devices, and must not block.
     */
    public void driverCode(Consumer<BackendDriver> preload) {
        driverCode = preload;
    }

    /** Tells the bus when no ring strategy is registered, so a connect waits for one instead of failing. */
    public void noRingStrategy(BooleanSupplier none) {
        noRingStrategy = none;
    }

    /**
     * How to lower every thread of this process to a nice value (the runtime's: setpriority per
     * thread); used once {@link #handOverAll} has let every device go. Returns how many threads.
     */
    public void niceAllThreads(IntUnaryOperator setter) {
        niceAllThreads = setter;
    }

    /** Starts serving the driver's device type; a second driver for a taken type is refused. */
    public boolean addDriver(BackendDriver driver) {
        DriverWatch w = new DriverWatch(driver, services, pool);
        if (drivers.putIfAbsent(driver.deviceType(), w) != null) {
            log.warn(driver.deviceType() + " backend: a second driver for the type is ignored while the first serves it");
            return false;
        }
        driverCode.accept(driver);
        w.start();
        log.info(driver.deviceType() + " backend: serving /local/domain/" + options.backendDomid() + "/backend/"
                + driver.deviceType());
        return true;
    }

    /**
     * Stops serving the driver's devices: each is disconnected, removed and marked Closed; with
     * {@link Options#keepDevices()} each is handed over instead, for the next driver of the type
     * (an updated bundle) to adopt.
     */
    public void removeDriver(BackendDriver driver) {
        DriverWatch w = drivers.get(driver.deviceType());
        if (w == null || w.driver() != driver) {
            return;
        }
        drivers.remove(driver.deviceType(), w);
        boolean keep = options.keepDevices();
        await(w.stop("the " + driver.deviceType() + " driver went away", keep), keep);
        log.info(driver.deviceType() + " backend: stopped" + (keep ? "; its devices stay Connected for the next driver" : ""));
    }

    /** The policy re-negotiated a live device on its own (admin edit). */
    public void offerChanged(Negotiation negotiation) {
        DeviceLifecycle d = lifecycle(negotiation.device());
        if (d != null) {
            d.offerChanged(negotiation);
        }
    }

    @Override
    public List<DeviceView> devices() {
        List<DeviceView> out = new ArrayList<>();
        drivers.values().forEach(w -> w.devices().forEach(d -> out.add(d.view())));
        out.sort(Comparator.comparing((DeviceView v) -> v.id().frontendDomid())
                .thenComparing(v -> v.id().type()).thenComparing(v -> v.id().devid()));
        return out;
    }

    @Override
    public Optional<DeviceView> device(DeviceId id) {
        return Optional.ofNullable(lifecycle(id)).map(DeviceLifecycle::view);
    }

    @Override
    public Negotiation request(DeviceId id, String feature, String value, Duration timeout) {
        DeviceLifecycle d = lifecycle(id);
        if (d == null) {
            throw new IllegalArgumentException("no " + id.type() + " device " + id + " is served here");
        }
        CompletableFuture<Negotiation> answer = d.awaitNegotiation(n -> n.outcomes().stream()
                .anyMatch(o -> o.source() == RequestSource.REQUEST_KEY && o.requestedAs().equals(feature)
                        && o.requestedValue().equals(value)));
        String key = id.backendPath() + "/" + FeatureControlLayout.requestKey(feature);
        xenStore.transaction(tx -> {
            tx.write(key, value);
            // As the toolstack does: only dom0 (toolstack and backend) sees requests, never the guest.
            tx.setPerms(key, List.of(XsPerm.none(id.backendDomid())));
            return null;
        });
        try {
            return answer.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            answer.cancel(false);
            throw new IllegalStateException(id + ": no answer to request-" + feature + " within "
                    + timeout.toSeconds() + " s (backend state " + d.view().backend() + ")");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted waiting for the answer");
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause().getMessage());
        }
    }

    @Override
    public List<StrategySwap> swapStrategy(DeviceId id, String strategy, Duration timeout) {
        DeviceLifecycle d = lifecycle(id);
        if (d == null) {
            throw new IllegalArgumentException("no " + id.type() + " device " + id + " is served here");
        }
        CompletableFuture<List<StrategySwap>> done = d.swapStrategy(strategy);
        try {
            return done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new IllegalStateException(id + ": the strategy swap did not finish within " + timeout.toSeconds() + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted waiting for the swap");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    /**
     * Hot deploy: a strategy named {@code name} was registered. Each connected device whose rings
     * all rank it first while another strategy serves them is logged, and swapped to it (on the
     * device's executor, not this thread) when {@code autoSwap}.
     */
    public void strategyAdded(String name, RingStrategies strategies, boolean autoSwap) {
        for (DriverWatch w : drivers.values()) {
            for (DeviceLifecycle d : w.devices()) {
                d.strategyArrived();
                if (d.view().backend() != XenbusState.CONNECTED) {
                    continue; // not connected: it opens its rings with the fittest when it connects
                }
                List<RingRequest> rings = d.ringRequests();
                if (rings.isEmpty() || !rings.stream().allMatch(r -> {
                    List<String> ranked = strategies.rank(r);
                    return !ranked.isEmpty() && ranked.get(0).equals(name);
                })) {
                    continue;
                }
                Map<String, String> status = d.view().status();
                String serving = status.getOrDefault(BackendDevice.STATUS_STRATEGY, status.get("queue-0/strategy"));
                if (name.equals(serving)) {
                    continue;
                }
                if (!autoSwap) {
                    log.info(d.id() + ": ring strategy " + name + " was deployed and is fitter than " + serving
                            + "; pv:strategy " + d.id() + " " + name + " swaps it live (or set autoSwap)");
                    continue;
                }
                log.info(d.id() + ": ring strategy " + name + " was deployed and is fitter than " + serving + "; swapping (autoSwap)");
                d.swapStrategy(name).whenComplete((done, e) -> {
                    if (e != null) {
                        log.warn(d.id() + ": swap to " + name + " failed: " + e.getMessage());
                    } else {
                        log.info(d.id() + ": swapped to " + name + ": " + done.stream().map(StrategySwap::describe)
                                .collect(Collectors.joining("; ")));
                    }
                });
            }
        }
    }

    /**
     * A strategy named {@code name} left the registry and its service is being unregistered: each
     * device with a ring on it moves to the fittest strategy that remains (on the device's
     * executor: at a batch boundary, or through Closing when none can take the rings as they are),
     * and this returns once every such device is off it, or after {@code timeout}.
     */
    public void strategyRemoved(String name, Duration timeout) {
        List<DeviceLifecycle> devices = new ArrayList<>();
        List<CompletableFuture<Void>> moves = new ArrayList<>();
        for (DriverWatch w : drivers.values()) {
            for (DeviceLifecycle d : w.devices()) {
                devices.add(d);
                moves.add(d.leaveStrategy(name));
            }
        }
        try {
            CompletableFuture.allOf(moves.toArray(CompletableFuture[]::new)).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            for (int i = 0; i < moves.size(); i++) {
                if (!moves.get(i).isDone()) {
                    log.warn(devices.get(i).id() + ": still busy " + (timeout.toMillis() % 1000 == 0 ? timeout.toSeconds() + " s"
                            : timeout.toMillis() + " ms") + " after ring strategy " + name
                            + " began to go away; it moves off it when its executor gets to it");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            log.warn("moving devices off ring strategy " + name + " failed: " + e.getCause());
        }
    }

    private DeviceLifecycle lifecycle(DeviceId id) {
        DriverWatch w = drivers.get(id.type());
        return w == null ? null : w.device(id);
    }

    /**
     * Hands every device of every driver over at once, each on its own executor (the runtime is
     * stopping: a standby adopts each the moment it is let go, rather than driver by driver as
     * the framework stops the bundles). Only with {@link Options#keepDevices()}; the drivers stay
     * registered and find nothing left to hand over when they go.
     *
     * <p>Once every device's owner is released (a successor may adopt it), this process's threads
     * drop to {@link #HANDED_OVER_NICE}: what is left of its exit (the mappings undone, the
     * framework's stop, the JVM's teardown) must not take the CPUs from the successor's adoption.
     */
    public void handOverAll(String reason) {
        if (!options.keepDevices()) {
            return;
        }
        owners.close();
        // The first line of a hand-over's timeline (each device logs when it is handed over).
        log.info("backend core: handing every device over (" + reason + ")");
        List<CompletableFuture<Void>> stops = new ArrayList<>();
        List<CompletableFuture<Void>> released = new ArrayList<>();
        for (DriverWatch w : drivers.values()) {
            stops.add(w.stopDevices(reason, true, released));
        }
        if (!released.isEmpty()) {
            CompletableFuture.allOf(released.toArray(CompletableFuture[]::new)).thenRun(() -> {
                try {
                    long start = System.nanoTime();
                    int threads = niceAllThreads.applyAsInt(HANDED_OVER_NICE);
                    if (threads > 0) {
                        log.info("backend core: all " + released.size() + " devices let go; this instance's " + threads
                                + " threads now run at nice " + HANDED_OVER_NICE + " (set in " + (System.nanoTime() - start) / 1_000_000
                                + " ms), leaving the CPUs to the successor");
                    }
                } catch (RuntimeException e) {
                    log.warn("backend core: could not lower this instance's priority after the hand-over: " + e.getMessage());
                }
            });
        }
        drivers.values().forEach(DriverWatch::unwatch);
        await(CompletableFuture.allOf(stops.toArray(CompletableFuture[]::new)), true);
    }

    /** Closes every device, or hands each over with {@link Options#keepDevices()}. */
    @Override
    public void close() {
        owners.close();
        List<CompletableFuture<Void>> stops = new ArrayList<>();
        boolean keep = options.keepDevices();
        for (DriverWatch w : drivers.values()) {
            stops.add(w.stop("the backend core stopped", keep));
        }
        drivers.clear();
        await(CompletableFuture.allOf(stops.toArray(CompletableFuture[]::new)), keep);
        pool.shutdown();
    }

    /**
     * @param handOver devices are being handed over: they get longer (unmapping many persistent
     *                 grants is slow on an emulated host), since one cut short costs its guest a
     *                 replay and a longer pause, where a closing one loses nothing more
     */
    private void await(CompletableFuture<?> f, boolean handOver) {
        int seconds = handOver ? 30 : 10;
        try {
            // A device stuck in its driver must not hold the runtime's shutdown forever.
            f.get(seconds, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            log.warn("backend core: some devices did not " + (handOver ? "hand over" : "close") + " within " + seconds
                    + " s" + (handOver ? " (their successor serves again what they took)" : ""));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            log.warn("backend core: closing devices failed: " + e.getCause());
        }
    }
}
