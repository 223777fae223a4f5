package io.backplane.backend;

import io.backplane.api.backend.BackendDevice;
import io.backplane.api.backend.StrategySwap;
import io.backplane.api.backend.BackendDriver;
import io.backplane.api.backend.DeviceException;
import io.backplane.api.backend.PreparedAdoption;
import io.backplane.api.backend.XenbusKeys;
import io.backplane.api.device.DeviceId;
import io.backplane.api.device.Negotiation;
import io.backplane.api.device.NegotiationPolicy;
import io.backplane.api.xenstore.XenStore;
import io.backplane.api.xenstore.XsWatch;
import io.backplane.api.backend.XenbusState;
import io.backplane.api.device.FeatureControlLayout;
import io.backplane.api.log.OperatorLog;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.function.Predicate;

import static io.backplane.api.backend.XenbusState.CLOSED;
import static io.backplane.api.backend.XenbusState.CLOSING;
import static io.backplane.api.backend.XenbusState.CONNECTED;
import static io.backplane.api.backend.XenbusState.INIT_WAIT;
import static io.backplane.api.backend.XenbusState.UNKNOWN;

/**
 * The xenbus state machine of one backend device, as Linux netback's {@code frontend_changed}
 * and QEMU's {@code xen_device_frontend_changed} drive theirs. Everything runs on the device's
 * own serial executor: watch callbacks only queue work, so a slow or broken device delays
 * nobody else, and any exception out of the driver becomes a fatal error of this device only.
 */
final class DeviceLifecycle {

    /** The bus services a device needs. */
    interface Bus {
        XenStore xenStore();

        NegotiationPolicy policy();

        OperatorLog log();

        BackendBus.Options options();

        /** True while no ring strategy at all is registered: a connect then waits for one instead of failing. */
        boolean noRingStrategy();

        /** The device is gone: forget it, so a new backend directory of the same name probes afresh. */
        void forget(DeviceLifecycle device);

        /** A change reached a device already removed: it may be a new directory of the same name. */
        void rediscover(DeviceId id, String path);

        /** The device was left to its live owner {@code owner}: look at it again the moment that process dies. */
        void watchOwner(DeviceId id, String owner);

        /** What was learned of a device left to its live owner, for its adoption once the owner goes. */
        void remember(DeviceId id, DeviceAdoption.Left left);

        /** The device was adopted here: its former owner's death is no news any more. */
        void unwatchOwner(DeviceId id);

        /**
         * Loads the classes an adoption runs, once per bus (later calls return at once with
         * ""); says what it loaded, "" when nothing.
         */
        String preloadAdoptionCode();
    }

    private record Waiter(Predicate<Negotiation> answers, CompletableFuture<Negotiation> future) {
    }

    private final DeviceId id;
    private final BackendDriver driver;
    private final Bus bus;
    private final XenStore xs;
    private final OperatorLog log;
    private final Executor executor;
    private final DeviceContext context;
    private final List<Waiter> waiters = new CopyOnWriteArrayList<>();

    // Written on the executor only; volatile for the shell's snapshots.
    private volatile BackendDevice device;
    private volatile XenbusState backendState = UNKNOWN;
    private volatile XenbusState frontendState = UNKNOWN;
    private volatile Negotiation negotiation;
    private volatile String lastError;
    private boolean connected;
    private boolean waitingForHotplug;
    private boolean waitingForStrategy;
    private boolean removed;
    private XsWatch frontendWatch;

    DeviceLifecycle(DeviceId id, BackendDriver driver, Bus bus, Executor pool) {
        this.id = id;
        this.driver = driver;
        this.bus = bus;
        this.xs = bus.xenStore();
        this.log = bus.log();
        this.executor = new SerialExecutor(pool, t -> log.error(id + ": internal error: " + t, t));
        this.context = new DeviceContext(this, xs, log);
    }

    DeviceId id() {
        return id;
    }

    /** The runtime's state directory, or null. */
    java.nio.file.Path stateDir() {
        return bus.options().stateDir();
    }

    // ---- events, from any thread: queued on the device's executor ----

    void start() {
        submit("probe", this::probe);
    }

    /**
     * A device this bus left to its owner, looked at again (its owner died, or something under its
     * backend directory changed, such as the owner's release): claimed on what was learned then,
     * and probed as usual when the claim finds it is not that device any more.
     */
    void start(DeviceAdoption.Left left) {
        executor.execute(() -> {
            if (removed) {
                left.drop();                       // what was prepared for it goes with it
            } else {
                run("adoption", () -> adoptLeft(left));
            }
        });
    }

    void backendChanged(String path) {
        executor.execute(() -> {
            if (removed) {
                bus.rediscover(id, path);
            }
        });
        submit("backend change", () -> onBackendChanged(path));
    }

    void frontendChanged() {
        submit("frontend change", this::onFrontendChanged);
    }

    void offerChanged(Negotiation n) {
        submit("policy change", () -> apply(n, "an admin policy edit"));
    }

    /** xenbus_dev_fatal, callable from any thread (a driver's data-path worker, for one). */
    void fatal(String reason) {
        executor.execute(() -> failed(reason));
    }

    /** The driver is going away or the core stops: close the device, tell the frontend. */
    CompletableFuture<Void> stop(String reason) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        executor.execute(() -> {
            try {
                if (!removed) {
                    disconnect();
                    switchState(CLOSED);
                    remove(reason);
                }
            } catch (RuntimeException e) {
                log.warn(id + ": not closed cleanly (" + reason + "): " + e.getMessage());
            } finally {
                done.complete(null);
            }
        });
        return done;
    }

    /**
     * Graceful handover (a restart, an upgrade): the driver finishes and answers what it took and
     * closes the rings, but no state key changes: the frontend stays Connected, the record stays
     * (without an owner) and the next backend adopts the device. A device not connected is left
     * in its state too; its successor probes it afresh.
     *
     * @param released completed once the device is let go (its owner removed, or nothing to
     *                 release), before its mappings are undone; the returned future after that
     */
    CompletableFuture<Void> handOver(String reason, CompletableFuture<Void> released) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        executor.execute(() -> {
            long start = System.nanoTime();
            try {
                if (!removed) {
                    BackendDevice d = device;
                    boolean live = connected && d != null;
                    Runnable unmap = () -> { };
                    if (live) {
                        connected = false;   // the record is current: it is rewritten at every change
                        unmap = d.handOver();
                    }
                    long rings = System.nanoTime();
                    removed = true;
                    if (d != null) {
                        d.remove();
                    }
                    long closed = System.nanoTime();
                    if (live) {
                        // A successor already running (a standby start) adopts the moment the owner
                        // goes, so the ports, TAP and image must be closed by then; the mappings
                        // need not be (the successor maps the same grants again).
                        DeviceRecord.release(xs, id);
                    }
                    long releasedAt = System.nanoTime();
                    if (live) {
                        // The moment a successor may adopt it (the guest's pause began at "rings
                        // answered"); said before the release completes, after which the last
                        // device's release drops this process to nice 19.
                        log.info(id + ": let go " + (releasedAt - start) / 1_000_000 + " ms after its hand-over began (rings answered and"
                                + " ports closed in " + (rings - start) / 1_000_000 + " ms); a successor may adopt it now");
                    }
                    released.complete(null);
                    try {
                        unmap.run();
                    } catch (RuntimeException e) {
                        log.warn(id + ": unmapping after the hand-over failed: " + e.getMessage());
                    }
                    closeWatch();
                    waiters.forEach(w -> w.future().completeExceptionally(new IllegalStateException(id + " was handed over")));
                    bus.forget(this);
                    log.info(id + ": handed over (" + reason + ")" + (live
                            ? " in " + (releasedAt - start) / 1_000_000 + " ms (rings answered and ports closed "
                                    + (rings - start) / 1_000_000 + " ms, image or TAP closed " + (closed - rings) / 1_000_000
                                    + " ms; unmapped after the release in " + (System.nanoTime() - releasedAt) / 1_000_000
                                    + " ms): every request taken was answered, the rings are closed, the frontend stays Connected"
                            : ", in state " + backendState));
                }
            } catch (RuntimeException e) {
                log.warn(id + ": not handed over cleanly (" + reason + "): " + e.getMessage());
            } finally {
                released.complete(null);
                done.complete(null);
            }
        });
        return done;
    }

    /** Hot swap of the device's ring strategy, on its executor (never during a connect or disconnect). */
    CompletableFuture<List<StrategySwap>> swapStrategy(String strategy) {
        CompletableFuture<List<StrategySwap>> done = new CompletableFuture<>();
        executor.execute(() -> {
            try {
                BackendDevice d = device;
                if (removed || d == null || !connected) {
                    throw new DeviceException("not connected (backend " + backendState + ", frontend " + frontendState + ")");
                }
                List<StrategySwap> swapped = d.swapStrategy(strategy);
                record();
                done.complete(swapped);
            } catch (RuntimeException e) {
                done.completeExceptionally(e);
            }
        });
        return done;
    }

    /**
     * The ring strategy {@code name} is going away (already out of the registry's ranking): if a
     * ring of this device runs on it, every ring moves to the fittest that remains at a batch
     * boundary; when none can take them as they are laid out, the device goes Closing so the
     * frontend reconnects onto what the remaining strategies serve. Either way nothing runs on
     * the old strategy's classes once this completes. On the executor, after any connect queued first.
     */
    CompletableFuture<Void> leaveStrategy(String name) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        executor.execute(() -> {
            try {
                BackendDevice d = device;
                if (!removed && d != null && connected && runsOn(view().status(), name)) {
                    moveOff(d, name);
                }
            } catch (RuntimeException e) {
                log.warn(id + ": moving off ring strategy " + name + " failed: " + e.getMessage());
            } finally {
                done.complete(null);
            }
        });
        return done;
    }

    private void moveOff(BackendDevice d, String name) {
        List<StrategySwap> moved;
        try {
            moved = d.swapStrategy(null);
        } catch (RuntimeException e) {
            log.warn(id + ": ring strategy " + name + " is going away and no remaining strategy can take over its rings"
                    + " as they are (" + e.getMessage() + "); closing so the frontend reconnects onto what remains");
            disconnect();
            switchState(CLOSING);
            return;
        }
        log.info(id + ": ring strategy " + name + " is going away; moved at a batch boundary, no request lost: "
                + moved.stream().map(StrategySwap::describe).collect(java.util.stream.Collectors.joining("; ")));
    }

    /**
     * True when the device's status says a ring runs on {@code strategy}: the
     * {@link BackendDevice#STATUS_STRATEGY} key, flat or per queue ({@code queue-1/strategy}),
     * whose value names the strategy (netback: {@code tx grant-copy rx persistent} mid-swap).
     */
    static boolean runsOn(Map<String, String> status, String strategy) {
        String suffix = "/" + BackendDevice.STATUS_STRATEGY;
        for (Map.Entry<String, String> e : status.entrySet()) {
            if ((e.getKey().equals(BackendDevice.STATUS_STRATEGY) || e.getKey().endsWith(suffix))
                    && List.of(e.getValue().split(" ")).contains(strategy)) {
                return true;
            }
        }
        return false;
    }

    /** A ring strategy was registered: a device waiting for one connects now. */
    void strategyArrived() {
        submit("connect", () -> {
            if (waitingForStrategy) {
                connect();
            }
        });
    }

    /** The ring requests of the connected device (for ranking a newly registered strategy). */
    List<io.backplane.api.ring.RingRequest> ringRequests() {
        BackendDevice d = device;
        try {
            return d == null ? List.of() : d.ringRequests();
        } catch (RuntimeException e) {
            return List.of();
        }
    }

    /** Completes with the next negotiation that {@code answers} (for pv:request). */
    CompletableFuture<Negotiation> awaitNegotiation(Predicate<Negotiation> answers) {
        Waiter w = new Waiter(answers, new CompletableFuture<>());
        waiters.add(w);
        w.future().whenComplete((n, e) -> waiters.remove(w));
        return w.future();
    }

    DeviceView view() {
        BackendDevice d = device;
        Map<String, String> status = Map.of();
        if (d != null) {
            try {
                status = Map.copyOf(d.status());
            } catch (RuntimeException e) {
                status = Map.of("status-error", String.valueOf(e.getMessage()));
            }
        }
        return new DeviceView(id, driver.deviceType(), backendState, frontendState, status,
                Optional.ofNullable(negotiation), Optional.ofNullable(lastError));
    }

    private void submit(String what, Runnable work) {
        executor.execute(() -> {
            if (!removed) {
                run(what, work);
            }
        });
    }

    private void run(String what, Runnable work) {
        try {
            work.run();
        } catch (RuntimeException e) {
            // A driver (or a vanished node) failing fails this device, never the bus. A
            // DeviceException is a refusal in operator words: no stack trace for it.
            log.error(id + ": " + what + " failed: " + e.getMessage(), e instanceof DeviceException ? null : e);
            failed(e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    // ---- the state machine, on the executor ----

    private void probe() {
        String be = id.backendPath();
        List<Optional<String>> keys = xs.tryReadAll(List.of(be + "/" + XenbusKeys.FRONTEND, be + "/" + XenbusKeys.FRONTEND_ID));
        String frontend = keys.get(0).orElse("");
        String frontendId = keys.get(1).orElse("");
        if (frontend.isEmpty() || !frontendId.equals(Integer.toString(id.frontendDomid()))) {
            throw new IllegalStateException("backend directory names frontend '" + frontend + "' of domain '"
                    + frontendId + "', not a frontend of domain " + id.frontendDomid());
        }
        context.frontendPath(frontend);
        watchFrontend();
        if (device == null) {
            DeviceAdoption.Decision decision = DeviceAdoption.decide(xs, id, frontend);
            switch (decision.verdict()) {
                case ADOPT -> {
                    claimAndAdopt(decision.record().orElseThrow(), System.nanoTime(), null);
                    return;
                }
                case LEAVE -> {
                    Optional<String> owner = decision.record().flatMap(DeviceRecord.Recorded::owner);
                    remove(decision.why());
                    if (owner.isPresent()) {
                        // A standby: a kill -9 of the owner changes nothing in XenStore, so its death is
                        // watched (first: an adoption must not wait for the rehearsal), and what was read
                        // here is kept, so that the adoption need not read it again; what the driver
                        // prepares is kept with it.
                        DeviceRecord.Recorded record = decision.record().get();
                        DeviceAdoption.Left left = new DeviceAdoption.Left(frontend, record);
                        bus.remember(id, left);
                        bus.watchOwner(id, owner.get());
                        apply(new Negotiation(id, record.offer(), List.of(), Set.of(), false), null);
                        rehearse(frontend, record);
                        prepare(left);
                    }
                    return;
                }
                case PROBE -> {
                    if (!decision.why().isEmpty()) {
                        log.warn(id + ": " + decision.why());
                    }
                }
            }
        }
        apply(bus.policy().negotiate(id), null);
        BackendDevice d = driver.probe(context);
        if (d == null) {
            throw new IllegalStateException("driver " + driver.deviceType() + " returned no device");
        }
        device = d;
        if (d.needsHotplug() && bus.options().writeHotplugStatus()
                && !"connected".equals(xs.tryRead(be + "/" + XenbusKeys.HOTPLUG_STATUS).orElse(""))) {
            // What Xen's vif hotplug script does once the interface is set up; sim mode has no script.
            xs.write(be + "/" + XenbusKeys.HOTPLUG_STATUS, "connected");
        }
        switchState(INIT_WAIT);
        log.info(id + ": probed, offer published (" + negotiation.offer().size() + " features), waiting for the frontend");
    }

    /**
     * A standby (the device is left to its live owner) runs the adoption's code before it may be
     * needed, so that the pause after the owner goes holds no class loading and no first run of
     * that code: the bus loads the adoption path's classes once, the claim's transaction runs
     * without a write and is aborted, the driver rehearses on the device's keys and scratch files
     * of its own ({@link BackendDriver#rehearseAdoption}). Nothing
     * of the device is touched; a failure costs only the warm start. Runs after the device was
     * removed here: if the owner dies meanwhile, a new lifecycle adopts the device beside it (the
     * rehearsal's scratch files have names of their own).
     */
    private void rehearse(String frontend, DeviceRecord.Recorded record) {
        long begin = System.nanoTime();
        try {
            String classes = bus.preloadAdoptionCode();
            long loaded = System.nanoTime();
            DeviceRecord.rehearseClaim(xs, id, frontend, record);
            driver.rehearseAdoption(context, record.connection());
            log.info(id + ": rehearsed its adoption in " + (System.nanoTime() - begin) / 1_000_000 + " ms ("
                    + (classes.isEmpty() ? "" : classes + " in " + (loaded - begin) / 1_000_000 + " ms; ")
                    + "the device itself untouched)");
        } catch (RuntimeException e) {
            log.warn(id + ": rehearsing its adoption failed (" + e.getMessage() + "); it is adopted all the same if its owner goes");
        }
    }

    /**
     * A standby, after its rehearsal, has the driver prepare what it can of the adoption beside
     * the live owner ({@link BackendDriver#prepareAdoption}: for a vbd its rings and persistent
     * grants mapped), kept with {@code left} until the claim takes it or the Left is dropped (the
     * device or its record changed, another process adopted it, the bus stops). A failure costs
     * only the preparation: the adoption then does it all.
     */
    private void prepare(DeviceAdoption.Left left) {
        try {
            PreparedAdoption p = driver.prepareAdoption(context, left.record().connection(), left.record().files());
            if (p != null) {
                left.prepared().offer(p);
            }
        } catch (RuntimeException e) {
            log.warn(id + ": preparing its adoption failed (" + e.getMessage() + "); it is adopted all the same if its"
                    + " owner goes, with nothing mapped ahead");
        }
    }

    /**
     * A device left to its owner, looked at again: the claim itself checks that the owner has
     * gone and that the device and its record are still what was learned when it was left; so
     * after an owner's death or release the adoption begins after three XenStore round trips.
     */
    private void adoptLeft(DeviceAdoption.Left left) {
        long begin = System.nanoTime();
        context.frontendPath(left.frontend());
        claimAndAdopt(left.record(), begin, left);
    }

    /**
     * Re-attach to a device both ends left Connected (see {@link DeviceAdoption}): claimed, then
     * the driver probes it (image or TAP reopened) under the recorded offer and adopts its live
     * rings. No state key is written; a failure fails the device as a failed connect does.
     *
     * @param left what was learned when the device was left to its owner, {@code record} among
     *             it (null: decided at its probe); what the driver prepared with it goes to the
     *             adoption, or is released when the device is not adopted here
     */
    private void claimAndAdopt(DeviceRecord.Recorded record, long probing, DeviceAdoption.Left left) {
        try {
            DeviceRecord.Claimed claim = DeviceRecord.claim(xs, id, context.frontendPath(), record, stateDir());
            if (claim.claim() == DeviceRecord.Claim.OWNED && left != null && claim.owner().equals(record.owner())
                    && claim.generation().equals(record.generation())) {
                // A change under its directory while its owner serves it as recorded (its own
                // writes, a request key): left as it was, with what was prepared for it.
                leftAgain(left);
                left = null;
                return;
            }
            Probed claimed = probeClaimed(claim, record, probing, left != null);
            if (claimed != null) {
                adopt(claimed, record, probing, left != null, left == null ? null : left.prepared().take());
            }
        } finally {
            if (left != null) {
                left.drop();                       // a no-op once the adoption took what was prepared
            }
        }
    }

    /** Still left to its owner as it was: this lifecycle goes without a trace, the Left stays for the next look. */
    private void leftAgain(DeviceAdoption.Left left) {
        removed = true;
        closeWatch();
        bus.forget(this);
        bus.remember(id, left);
    }

    /**
     * A device claimed and probed for its adoption.
     *
     * @param why what became of its last owner, for the log
     * @param at  when the claim and files were done ({@link System#nanoTime})
     */
    private record Probed(BackendDevice device, String why, long at) {
    }

    /** After the claim: the files and the driver's probe; null when the device is not adopted here. */
    private Probed probeClaimed(DeviceRecord.Claimed claim, DeviceRecord.Recorded record, long probing, boolean left) {
        switch (claim.claim()) {
            case OWNED -> {
                if (left) {
                    lookAgain();                   // its owner still holds it: it is left again, on a fresh record
                } else {
                    remove("another backend adopted it first");
                    claim.owner().ifPresent(o -> bus.watchOwner(id, o));
                }
                return null;
            }
            case CHANGED -> {
                log.info(id + ": " + claim.why() + (left ? " since it was left to its owner" : " since its probe")
                        + "; looking at it afresh");
                lookAgain();
                return null;
            }
            case CLAIMED -> { }
        }
        if (claim.files().isPresent() && stateDir() != null) {
            try {
                DeviceRecord.takeFiles(claim.files().get(), stateDir(), id);
            } catch (java.io.IOException | RuntimeException e) {
                log.warn(id + ": could not take over its files from " + claim.files().get() + " (" + e.getMessage()
                        + "): its rings start at their published responses");
            }
        }
        bus.unwatchOwner(id);
        String why = claim.owner().map(o -> "its backend process " + o + " is gone").orElse("it was handed over");
        long claimed = System.nanoTime();
        apply(new Negotiation(id, record.offer(), List.of(), Set.of(), false), null);
        BackendDevice d = driver.probe(context);
        if (d == null) {
            throw new IllegalStateException("driver " + driver.deviceType() + " returned no device");
        }
        device = d;
        backendState = CONNECTED;
        frontendState = CONNECTED;
        return new Probed(d, why, claimed);
    }

    /** The probed device re-attaches to the live rings, with what was prepared for it (null: nothing). */
    private void adopt(Probed claimed, DeviceRecord.Recorded record, long probing, boolean left, PreparedAdoption prepared) {
        BackendDevice d = claimed.device();
        long start = System.nanoTime();
        try {
            if (prepared != null) {
                d.adopt(record.connection(), prepared);
            } else {
                d.adopt(record.connection());
            }
        } catch (RuntimeException e) {
            log.error(id + ": re-attach failed: " + e.getMessage(), e instanceof DeviceException ? null : e);
            failed(e.getMessage() == null ? e.toString() : e.getMessage());
            return;
        }
        connected = true;
        if (!d.connection().equals(record.connection())) {
            record();                              // another strategy serves it now (claim() made this process the owner)
        }
        long end = System.nanoTime();
        log.info(id + ": re-attached to the live rings (" + claimed.why() + ") in " + (end - start) / 1_000_000
                + " ms after a probe of " + (start - probing) / 1_000_000 + " ms (claim and files " + (claimed.at() - probing) / 1_000_000
                + " ms" + (left ? ", on the record read when it was left to its owner" : "") + ")" + summary(view().status()));
        watchFrontend();                           // after a claim on what was learned earlier: its first event reads the state
    }

    /**
     * Linux's otherend watch: the frontend's state drives everything after the probe. Its first
     * event comes at once and reads the state, so a change before it is not missed.
     */
    private void watchFrontend() {
        if (frontendWatch == null) {
            frontendWatch = xs.watch(context.frontendPath() + "/" + XenbusKeys.STATE, "backend:" + id.backendPath(),
                    (p, t) -> frontendChanged());
        }
    }

    /** What a successor needs, written (with this process as the owner) whenever the connection changes. */
    private void record() {
        try {
            DeviceRecord.write(xs, id, negotiation.offer(), device.connection(), stateDir());
        } catch (RuntimeException e) {
            log.warn(id + ": could not record the connection for a successor: " + e.getMessage());
        }
    }

    private void forgetRecord() {
        try {
            DeviceRecord.forget(xs, id);
        } catch (RuntimeException e) {
            log.warn(id + ": could not remove the connection record: " + e.getMessage());
        }
        forgetFiles();
    }

    /** Its files (request mirrors) go with the record; a handover keeps both. */
    private void forgetFiles() {
        java.nio.file.Path stateDir = stateDir();
        if (stateDir != null) {
            try {
                DeviceRecord.forgetFiles(stateDir, id);
            } catch (java.io.IOException | RuntimeException e) {
                log.warn(id + ": could not remove its files under " + DeviceRecord.files(stateDir, id) + ": " + e.getMessage());
            }
        }
    }

    private void onFrontendChanged() {
        String raw = xs.tryRead(context.frontendPath() + "/" + XenbusKeys.STATE).orElse(null);
        XenbusState state;
        try {
            state = XenbusState.ofWire(raw);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("frontend wrote an impossible state '" + raw + "'");
        }
        if (state == frontendState && state != XenbusState.INITIALISED && state != CONNECTED) {
            return;
        }
        frontendState = state;
        switch (state) {
            case INITIALISING -> {
                if (backendState == CLOSED) {
                    log.info(id + ": frontend reinitialising, preparing for reconnect");
                    if (device == null) {
                        probe();
                    } else {
                        // The offer is decided afresh, as at a probe: what a backend can do may have
                        // changed since (a strategy bundle came or went), and the frontend reads it now.
                        apply(bus.policy().negotiate(id), "the frontend's reconnect");
                        switchState(INIT_WAIT);
                    }
                }
            }
            case INITIALISED, CONNECTED -> connect();
            case CLOSING -> {
                disconnect();
                switchState(CLOSING);
            }
            case CLOSED, UNKNOWN -> {
                disconnect();
                if (backendState != UNKNOWN) {
                    switchState(CLOSED);
                }
                if (!online()) {
                    remove(state == CLOSED ? "frontend closed and the device is offline" : "frontend gone and the device is offline");
                }
            }
            default -> { }
        }
    }

    private void onBackendChanged(String path) {
        String be = id.backendPath();
        if (!xs.exists(be)) {
            disconnect();
            remove("backend directory removed");
            return;
        }
        String key = path.length() > be.length() ? path.substring(be.length() + 1) : "";
        if (key.equals(XenbusKeys.HOTPLUG_STATUS)) {
            if (frontendState == XenbusState.INITIALISED || frontendState == CONNECTED) {
                connect();
            }
        } else if (key.equals(XenbusKeys.ONLINE)) {
            if (!online() && (frontendState == CLOSED || frontendState == UNKNOWN)) {
                disconnect();
                remove("device taken offline");
            }
        } else if ((key.startsWith(FeatureControlLayout.REQUEST_PREFIX) || key.startsWith(FeatureControlLayout.REQUIRE_DIR + "/"))
                && device != null && xs.exists(path)) {
            apply(bus.policy().negotiate(id), "a new " + key);
        }
    }

    private void connect() {
        BackendDevice d = device;
        if (connected || d == null || backendState != INIT_WAIT) {
            return;
        }
        if (d.needsHotplug() && !"connected".equals(xs.tryRead(id.backendPath() + "/" + XenbusKeys.HOTPLUG_STATUS).orElse(""))) {
            if (!waitingForHotplug) {
                waitingForHotplug = true;
                log.info(id + ": frontend ready, waiting for hotplug-status=connected");
            }
            return;
        }
        waitingForHotplug = false;
        if (bus.noRingStrategy()) {
            // The last strategy went (stopped, updated, uninstalled): wait in InitWait for the next
            // one rather than fail the device; strategyArrived() connects it.
            if (!waitingForStrategy) {
                waitingForStrategy = true;
                log.warn(id + ": frontend ready, but no ring strategy is registered; waiting for one to connect"
                        + " (a strategy bundle in the deploy directory, felix:start or feature:install)");
            }
            return;
        }
        waitingForStrategy = false;
        try {
            d.connect();
        } catch (RuntimeException e) {
            if (NoFittingStrategyException.in(e)) {
                // The device's connect undid what it opened; a strategy that fits connects it
                // (strategyArrived), as when none is registered at all.
                waitingForStrategy = true;
                log.warn(id + ": frontend ready, but " + e.getMessage() + "; waiting for a ring strategy that fits");
                return;
            }
            log.error(id + ": connect failed: " + e.getMessage(), e instanceof DeviceException ? null : e);
            failed(e.getMessage() == null ? e.toString() : e.getMessage());
            return;
        }
        connected = true;
        record();                                  // before Connected: a Connected device always has one
        switchState(CONNECTED);
        log.info(id + ": frontend connected" + summary(view().status()));
    }

    private void disconnect() {
        BackendDevice d = device;
        if (connected && d != null) {
            connected = false;
            forgetRecord();
            d.disconnect();
            log.info(id + ": disconnected");
        }
    }

    private void apply(Negotiation n, String cause) {
        negotiation = n;
        context.negotiation(n);
        for (Waiter w : waiters) {
            if (w.answers().test(n)) {
                w.future().complete(n);
            }
        }
        if (cause == null || n.changed().isEmpty()) {
            return;
        }
        StringBuilder changes = new StringBuilder();
        n.changed().stream().sorted().forEach(k -> changes.append(changes.isEmpty() ? "" : ", ")
                .append(k).append('=').append(n.offer().get(k)));
        if (n.needsReconnect() && connected) {
            log.info(id + ": " + cause + " changed the offer (" + changes + "); closing so the frontend reconnects");
            disconnect();
            switchState(CLOSING);
        } else {
            log.info(id + ": " + cause + " changed the offer (" + changes + ")");
            if (connected) {
                record();
            }
        }
    }

    private void failed(String reason) {
        if (removed) {
            return;
        }
        lastError = reason;
        log.error(id + ": fatal: " + reason, null);
        String be = id.backendPath();
        try {
            // xenbus_dev_error's node, relative to dom0's home: error/backend/<type>/<domid>/<devid>/error.
            xs.write("/local/domain/" + id.backendDomid() + "/error/backend/" + id.type() + "/"
                    + id.frontendDomid() + "/" + id.devid() + "/" + XenbusKeys.ERROR, reason);
            if (xs.exists(be)) {
                xs.write(be + "/" + XenbusKeys.ERROR, reason);
            }
        } catch (RuntimeException e) {
            log.warn(id + ": could not record the error in XenStore: " + e.getMessage());
        }
        BackendDevice d = device;
        forgetRecord();                            // a failed device has nothing to adopt
        connected = false;
        if (d != null) {
            try {
                d.disconnect(); // idempotent: also tidies a connect that failed half way
            } catch (RuntimeException e) {
                log.warn(id + ": disconnect after the error failed too: " + e.getMessage());
            }
        }
        try {
            switchState(CLOSING);
        } catch (RuntimeException e) {
            log.warn(id + ": could not switch to Closing: " + e.getMessage());
        }
    }

    private void remove(String reason) {
        removed = true;
        BackendDevice d = device;
        try {
            if (d != null) {
                d.remove();
            }
        } catch (RuntimeException e) {
            log.warn(id + ": driver failed to remove the device: " + e.getMessage());
        } finally {
            forgetFiles();
            closeWatch();
            waiters.forEach(w -> w.future().completeExceptionally(new IllegalStateException(id + " was removed")));
            bus.forget(this);
            log.info(id + ": removed (" + reason + ")");
        }
    }

    /**
     * Not the device it was taken for: this lifecycle goes without a trace (nothing was opened or
     * written) and discovery looks at the directory afresh, as at a first sight of it.
     */
    private void lookAgain() {
        removed = true;
        closeWatch();
        bus.forget(this);
        bus.rediscover(id, id.backendPath());
    }

    private void closeWatch() {
        if (frontendWatch != null) {
            try {
                frontendWatch.close();
            } catch (RuntimeException e) {
                log.warn(id + ": unwatch failed: " + e.getMessage());
            }
        }
    }

    /** xenbus_switch_state: a no-op for the same state; never recreates a removed directory. */
    private void switchState(XenbusState state) {
        if (backendState == state) {
            return;
        }
        String be = id.backendPath();
        boolean written = xs.transaction(tx -> {
            if (!tx.exists(be)) {
                return false;
            }
            tx.write(be + "/" + XenbusKeys.STATE, state.wire());
            return true;
        });
        if (written) {
            backendState = state;
        }
    }

    private boolean online() {
        return "1".equals(xs.tryRead(id.backendPath() + "/" + XenbusKeys.ONLINE).orElse("0"));
    }

    private static String summary(Map<String, String> status) {
        StringBuilder s = new StringBuilder();
        String queues = status.get(BackendDevice.STATUS_QUEUES);
        if (queues != null) {
            s.append(", ").append(queues).append("1".equals(queues) ? " queue" : " queues");
        }
        String strategy = status.getOrDefault(BackendDevice.STATUS_STRATEGY,
                status.get("queue-0/" + BackendDevice.STATUS_STRATEGY));
        if (strategy != null) {
            s.append(", strategy ").append(strategy);
        }
        String order = status.getOrDefault(BackendDevice.STATUS_RING_ORDER,
                status.get("queue-0/" + BackendDevice.STATUS_RING_ORDER));
        if (order != null) {
            s.append(", ring order ").append(order);
        }
        return s.toString();
    }
}
