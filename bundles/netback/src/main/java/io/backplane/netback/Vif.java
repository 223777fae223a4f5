package io.backplane.netback;

import io.backplane.api.backend.BackendContext;
import io.backplane.api.backend.BackendDevice;
import io.backplane.api.backend.StrategySwap;
import io.backplane.api.ring.RingRequest;
import io.backplane.ring.RingHandover;
import io.backplane.api.backend.DeviceException;
import io.backplane.api.backend.NetifKeys;
import io.backplane.api.hypervisor.EventChannels;
import io.backplane.api.ring.RingStrategies;
import io.backplane.api.sink.PacketSink;
import io.backplane.nativeio.NativeIo;
import io.backplane.ring.BackRing;
import io.backplane.ring.LegacyRingLayout;
import io.backplane.ring.NetifTxRequest;
import io.backplane.ring.NetifTxResponse;
import io.backplane.ring.RequestMirror;
import io.backplane.ring.layout.NetifConstants;
import io.backplane.ring.layout.SharedRingDescriptor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One vif (Linux xen-netback/interface.c's xenvif): its sink lives from probe to remove, its
 * queues and the sink's further host queues from connect to disconnect. Each host queue has a
 * {@link SinkReader}: one per vif queue when the sink has a queue for each (a multi-queue TAP),
 * else one that spreads the frames over the queues by flow hash (xenvif_select_queue). A
 * misbehaving frontend disables the vif: its queues stop and the core takes the device to
 * Closing; nothing else is touched.
 */
final class Vif implements BackendDevice {
    private final BackendContext ctx;
    private final NetbackDriver.Settings settings;
    private final RingStrategies rings;
    private final EventChannels channels;
    /** For the queues' buffers ({@link QueueMemory}); null: allocateDirect's. */
    private final NativeIo io;
    private final PacketSink sink;
    private final Object lifecycle = new Object();
    private volatile List<NetbackQueue> queues = List.of();
    private volatile FrontendConfig config;
    /** The sink's host queues of this connection: the sink itself, then those opened for queues 1.. */
    private volatile List<PacketSink> hostQueues = List.of();
    private volatile List<Thread> readers = List.of();
    private volatile boolean connected;
    private final AtomicBoolean disabled = new AtomicBoolean();
    private volatile String disabledReason = "";
    /** Handed over to a successor: {@link #remove()} leaves a persistent host interface in place. */
    private boolean handedOver;

    Vif(BackendContext ctx, NetbackDriver.Settings settings, RingStrategies rings, EventChannels channels, NativeIo io,
        PacketSink sink) {
        this.ctx = ctx;
        this.settings = settings;
        this.rings = rings;
        this.channels = channels;
        this.io = io;
        this.sink = sink;
    }

    /** {@code vif<domid>.<devid>}, the interface name Linux gives it. */
    String name() {
        return sink.name();
    }

    int frontendDomid() {
        return ctx.id().frontendDomid();
    }

    @Override
    public boolean needsHotplug() {
        return true;
    }

    @Override
    public void connect() {
        synchronized (lifecycle) {
            disconnectLocked();
            open(NetbackXenbus.read(ctx), null, false);
        }
    }

    /**
     * Re-attach to the rings a previous backend left Connected (see {@link BackendDevice#adopt}):
     * the frontend's keys must say what was recorded at its connect; each ring is served from
     * its published rsp_prod, and each port is notified once. Nothing is written to XenStore.
     */
    @Override
    public void adopt(Map<String, String> recorded) {
        synchronized (lifecycle) {
            disconnectLocked();
            FrontendConfig cfg = NetbackXenbus.read(ctx);
            BackendDevice.requireRecorded(decided(cfg), recorded);
            open(cfg, recorded.get(STATUS_STRATEGY), true);
        }
    }

    /**
     * A standby's rehearsal of {@link #adopt} ({@code BackendDriver.rehearseAdoption}): the
     * frontend's keys read and checked against the record and the strategies ranked for each
     * ring, as the adoption will; then, in {@code scratch} (none: skipped), a one-page TX ring in
     * private memory re-attached through a request mirror with a request left in it (the replay
     * after a kill). The vif's TAP, rings and ports are not touched.
     */
    static void rehearse(BackendContext ctx, Map<String, String> recorded, RingStrategies rings, Optional<Path> scratch) {
        FrontendConfig cfg = NetbackXenbus.read(ctx);
        BackendDevice.requireRecorded(decided(cfg), recorded);
        for (FrontendConfig.QueueKeys keys : cfg.queues()) {
            rings.rank(NetbackQueue.txRingRequest(ctx.id().frontendDomid(), keys, cfg.ringFeatures()));
            rings.rank(NetbackQueue.rxRingRequest(ctx.id().frontendDomid(), keys, cfg.ringFeatures()));
        }
        if (scratch.isPresent()) {
            NetifTxRequest request = new NetifTxRequest();
            request.id = 7;
            request.size = 60;
            NetifTxResponse response = new NetifTxResponse();
            response.id = 7;
            response.status = NetifConstants.NETIF_RSP_OKAY;
            BackRing.rehearse(LegacyRingLayout.ofPages(1, SharedRingDescriptor.NETIF_TX_ENTRY_LENGTH),
                    RequestMirror.file(scratch.get(), "rehearsal"), request, new NetifTxRequest(), response);
        }
    }

    @Override
    public Map<String, String> connection() {
        FrontendConfig cfg = config;
        List<NetbackQueue> qs = queues;
        if (!connected || cfg == null || qs.isEmpty()) {
            return Map.of();
        }
        Map<String, String> c = decided(cfg);
        c.put(STATUS_STRATEGY, qs.get(0).strategy());
        return c;
    }

    /** What the frontend's keys and the offer decided at connect: an adopter finds the same or refuses. */
    private static Map<String, String> decided(FrontendConfig cfg) {
        Map<String, String> c = new LinkedHashMap<>(cfg.ringFeatures());
        c.put(STATUS_QUEUES, Integer.toString(cfg.queues().size()));
        c.put("split-event-channels", cfg.queues().get(0).split() ? "1" : "0");
        c.put("layout", cfg.shape().describe());
        return c;
    }

    /** Where the requests taken off {@code ring} are mirrored for a successor (null: nowhere; see BackRing.open). */
    Path requestMirror(String ring) {
        return ctx.stateDirectory().map(d -> RequestMirror.file(d, ring)).orElse(null);
    }

    /** @param strategy the strategy to prefer (an adopter's record), null for the fittest */
    private void open(FrontendConfig cfg, String strategy, boolean live) {
        List<NetbackQueue> opened = new ArrayList<>();
        String domid = Integer.toString(ctx.id().frontendDomid());
        // A XenStore round trip, only when per-domain CPU sets could name the domain.
        String domainName = settings.domainCpus().isEmpty() ? ""
                : ctx.xenstore().tryRead("/local/domain/" + domid + "/name").orElse("");
        int n = cfg.queues().size();
        // Queue K reads and writes its own host queue when the sink has one for each (TX on its
        // own fd too, so the host sends a flow's replies to the queue the flow came from).
        long begin = System.nanoTime();
        List<PacketSink> host = n > 1 ? sink.openQueues(n) : List.of(sink);
        long hostOpened = System.nanoTime();
        try {
            for (FrontendConfig.QueueKeys keys : cfg.queues()) {
                opened.add(NetbackQueue.connect(this, cfg, keys, rings, channels, io, host.get(host.size() == n ? keys.id() : 0),
                        settings.fatalSkbSlots(), settings.busyPoll(), settings.cpusFor(domid, domainName, keys.id()), strategy, live));
            }
        } catch (DeviceException e) {
            opened.forEach(NetbackQueue::stop);
            closeHostQueues(host);
            throw e;
        }
        long mapped = System.nanoTime();
        // What the frontend takes on RX, the host is asked to leave undone (TUNSETOFFLOAD);
        // the rest it completes or segments before netback sees it.
        RxOffload.Accepts accepts = RxOffload.Accepts.of(cfg);
        sink.acceptOffloads(accepts.csum4() || accepts.csum6(), accepts.gso4(), accepts.gso6());
        disabled.set(false);
        disabledReason = "";
        config = cfg;
        queues = List.copyOf(opened);
        opened.forEach(NetbackQueue::start);
        connected = true;
        hostQueues = host;
        List<Thread> threads = new ArrayList<>();
        if (host.size() == n && n > 1) {
            for (int k = 0; k < n; k++) {
                threads.add(readerThread(host.get(k), List.of(opened.get(k)), name() + "-sink-q" + k));
            }
        } else {
            threads.add(readerThread(sink, opened, name() + "-sink"));
        }
        readers = List.copyOf(threads);
        threads.forEach(Thread::start);
        int replayed = opened.stream().mapToInt(NetbackQueue::txServedAgain).sum();
        int buffers = opened.stream().mapToInt(NetbackQueue::rxBuffersTakenOver).sum();
        ctx.log((live ? "re-attached at the published responses" + (replayed > 0 ? " (" + replayed
                + " requests the last backend took and never answered served again from its request mirrors)" : "")
                + (buffers > 0 ? " (" + buffers + " receive buffers the last backend took and never filled, taken over)" : "")
                + ": " : "connected ") + opened.size()
                + (opened.size() == 1 ? " queue" : " queues") + " ("
                + (cfg.queues().get(0).split() ? "split" : "shared") + " event channels, "
                + (n > 1 ? (host.size() == n ? "a host queue each" : "one host queue") + ", " : "") + "strategy "
                + opened.get(0).strategy() + ", " + opened.get(0).ringDescription() + ") to " + sink.describe()
                + " (host queues opened " + (hostOpened - begin) / 1_000_000 + " ms, rings mapped and ports bound "
                + (mapped - hostOpened) / 1_000_000 + " ms, started " + (System.nanoTime() - mapped) / 1_000_000 + " ms)");
    }

    @Override
    public void disconnect() {
        synchronized (lifecycle) {
            disconnectLocked();
        }
    }

    private void disconnectLocked() {
        disconnectLocked(false);
    }

    /** @param keepRings a hand-over: the rings stay mapped for {@link NetbackQueue#unmapRings()} */
    private void disconnectLocked(boolean keepRings) {
        if (!connected) {
            return;
        }
        connected = false;
        for (Thread t : readers) {
            if (t != Thread.currentThread()) {
                try {
                    t.join(2000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        readers = List.of();
        queues.forEach(keepRings ? NetbackQueue::stopKeepingRings : NetbackQueue::stop);
        closeHostQueues(hostQueues);
        hostQueues = List.of();
        ctx.log(keepRings ? "event channels closed for the hand-over; its rings are unmapped after the release"
                : "disconnected; rings unmapped, event channels closed");
    }

    /**
     * As {@link #disconnect()}, but the rings are unmapped by the returned task, which the core
     * runs after the release (the successor maps them meanwhile); the core then calls
     * {@link #remove()}, which hands the host end over instead of closing it: a persistent TAP
     * stays, with its addresses and bridge port, for the successor to attach to.
     */
    @Override
    public Runnable handOver() {
        List<NetbackQueue> qs;
        synchronized (lifecycle) {
            qs = queues;
            disconnectLocked(true);
            handedOver = true;
        }
        return () -> qs.forEach(NetbackQueue::unmapRings);
    }

    /** The host end closes with the vif (a persistent TAP goes too), unless the vif was handed over. */
    @Override
    public void remove() {
        synchronized (lifecycle) {
            disconnectLocked();
            if (handedOver) {
                sink.handOver();
            } else {
                sink.close();
            }
            queues = List.of();
        }
    }

    @Override
    public List<StrategySwap> swapStrategy(String strategy) {
        synchronized (lifecycle) {
            List<NetbackQueue> qs = queues;
            if (!connected || qs.isEmpty() || disabled.get()) {
                throw new DeviceException("not connected: no ring to swap");
            }
            for (NetbackQueue q : qs) {
                for (RingRequest request : q.ringRequests()) {
                    List<String> fitting = rings.rank(request);
                    if (fitting.isEmpty() || (strategy != null && !fitting.contains(strategy))) {
                        throw new DeviceException(RingHandover.unfit(strategy, "queue " + q.id, request, fitting));
                    }
                }
            }
            List<StrategySwap> done = new ArrayList<>();
            for (NetbackQueue q : qs) {
                try {
                    done.addAll(q.swap(rings, strategy));
                } catch (RuntimeException e) {
                    throw new DeviceException(RingHandover.failed(done.stream().map(StrategySwap::describe).toList(), "queue " + q.id, e), e);
                }
            }
            done.forEach(d -> ctx.log("strategy swap: " + d.describe()));
            return done;
        }
    }

    @Override
    public List<RingRequest> ringRequests() {
        List<RingRequest> out = new ArrayList<>();
        queues.forEach(q -> out.addAll(q.ringRequests()));
        return out;
    }

    /**
     * xenvif_fatal_tx_err(): the frontend broke the protocol. Stops every queue of this vif and
     * has the core report it (error node, Closing). Once per connection.
     */
    void disable(String reason) {
        if (!disabled.compareAndSet(false, true)) {
            return;
        }
        disabledReason = reason;
        for (NetbackQueue q : queues) {
            q.stopAsync();
        }
        ctx.fatal("vif disabled, malicious or buggy frontend: " + reason);
    }

    void log(String message) {
        ctx.log(message);
    }

    @Override
    public Map<String, String> status() {
        Map<String, String> out = new LinkedHashMap<>();
        List<NetbackQueue> qs = queues;
        // BackendDevice's STATUS_* keys (pv:devices), then the vif's own.
        out.put(STATUS_STRATEGY, qs.isEmpty() ? "-" : qs.get(0).strategy());
        out.put(STATUS_QUEUES, Integer.toString(qs.size()));
        FrontendConfig cfg = config;
        out.put(STATUS_RING_ORDER, cfg == null ? "0" : Integer.toString(cfg.ringOrder()));
        if (cfg != null) {
            // A feature is in effect when both ends have it: the backend's offer (what the policy
            // published) and the frontend's own key. An operator who turned sg off must not see it.
            Map<String, String> offer = ctx.negotiation().offer();
            List<String> features = new ArrayList<>();
            if (cfg.sg() && "1".equals(offer.get(NetifKeys.FEATURE_SG))) {
                features.add("sg");
            }
            if (cfg.gsoTcpv4() && "1".equals(offer.get(NetifKeys.FEATURE_GSO_TCPV4))) {
                features.add("gso-tcpv4");
            }
            if (cfg.gsoTcpv6() && "1".equals(offer.get(NetifKeys.FEATURE_GSO_TCPV6))) {
                features.add("gso-tcpv6");
            }
            if (cfg.queues().get(0).split()) {
                features.add("split-event-channels");
            }
            if (cfg.persistent()) {
                features.add("persistent");
            }
            if (!cfg.ipCsum()) {
                features.add("no-csum-offload");
            }
            out.put(STATUS_FEATURES, String.join(" ", features));
            out.put("mac", cfg.mac());
        }
        out.put("sink", sink.describe());
        out.put("sink-queues", Integer.toString(Math.max(1, hostQueues.size())));
        out.put("ring", qs.isEmpty() ? "-" : qs.get(0).ringDescription());
        if (disabled.get()) {
            out.put("disabled", disabledReason);
        }
        for (NetbackQueue q : qs) {
            q.status(out);
        }
        return out;
    }

    private Thread readerThread(PacketSink from, List<NetbackQueue> to, String threadName) {
        Thread t = new Thread(new SinkReader(from, to, () -> connected && !disabled.get(), ctx::log, io), threadName);
        t.setDaemon(true);
        return t;
    }

    /** Closes the host queues opened for queues 1.. (frames still queued there are lost, as on any reconnect). */
    private void closeHostQueues(List<PacketSink> host) {
        for (int k = 1; k < host.size(); k++) {
            host.get(k).close();
        }
    }
}
