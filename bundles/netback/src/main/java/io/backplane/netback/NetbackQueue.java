package io.backplane.netback;

import io.backplane.api.backend.BackendDevice;
import io.backplane.api.backend.StrategySwap;
import io.backplane.api.hypervisor.EventChannel;
import io.backplane.api.hypervisor.EventChannels;
import io.backplane.api.ring.RingChannel;
import io.backplane.api.ring.RingRequest;
import io.backplane.api.ring.RingStrategies;
import io.backplane.api.sink.PacketSink;
import io.backplane.nativeio.NativeIo;
import io.backplane.ring.BackRing;
import io.backplane.ring.BatchBoundary;
import io.backplane.ring.BusyPoll;
import io.backplane.ring.RingHandover;
import io.backplane.ring.GeometryRingLayout;
import io.backplane.ring.layout.NetifRxRequestDescriptor;
import io.backplane.ring.layout.NetifRxResponseDescriptor;
import io.backplane.ring.layout.NetifTxRequestDescriptor;
import io.backplane.ring.layout.NetifTxResponseDescriptor;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One queue of a vif (Linux xen-netback/interface.c, xenvif_connect_data and the queue's
 * kthread): its TX and RX rings opened through the ring-strategy registry, its event channel(s)
 * bound to the frontend's ports, and one worker thread that runs both halves of the data path.
 * Event handlers only wake the worker; the worker re-arms the ports before its final ring check,
 * so no event is slept through. The sink's reader delivers a frame to the RX ring itself when
 * the worker is not at it (one thread wake-up less per frame for the guest); {@code rxLock}
 * keeps the two apart, and a swap or the release of the rings out.
 */
final class NetbackQueue {
    /** How long the sink's reader waits for room in a full RX backlog before dropping. */
    private static final long RX_WAIT_MILLIS = 100;
    private static final long IDLE_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

    final int id;
    final String name;
    final QueueStats stats = new QueueStats();
    private final Vif vif;
    private final String cpus;
    /** The worker spins on its rings ({@link BusyPoll}) instead of sleeping on the event channels. */
    private final boolean busyPoll;
    // Replaced by a hot swap on the worker; volatile for status().
    private volatile RingChannel txRing;
    private volatile RingChannel rxRing;
    private RingRequest txRequest;
    private RingRequest rxRequest;
    private BackRing txBack;
    private BackRing rxBack;
    private final BatchBoundary boundary = new BatchBoundary();
    private EventChannel txEvent;
    private EventChannel rxEvent;
    private TxPath tx;
    private RxPath rx;
    /** The TX and RX paths' buffers, given back at release once the worker has ended. */
    private QueueMemory memory;
    /** Held while the RX ring is used (by the worker or the sink's reader), swapped or released. */
    private final ReentrantLock rxLock = new ReentrantLock();
    /** Set under rxLock when the rings are unmapped: the reader must not touch them after. */
    private boolean released;
    private volatile Thread worker;
    private volatile boolean running;
    private volatile boolean releaseOnExit;
    /** A hand-over's stop: {@link #release()} leaves the rings and buffers for {@link #unmapRings()}. */
    private volatile boolean keepRings;
    private volatile String affinity = "not pinned";

    private NetbackQueue(Vif vif, int id, String cpus, boolean busyPoll) {
        this.vif = vif;
        this.busyPoll = busyPoll;
        this.id = id;
        this.name = vif.name() + "-q" + id;
        this.cpus = cpus;
    }

    /** What the queue's TX ring asks of the strategies. */
    static RingRequest txRingRequest(int domid, FrontendConfig.QueueKeys keys, Map<String, String> features) {
        return new RingRequest(domid, "netif-tx", NetifTxRequestDescriptor.LENGTH, NetifTxResponseDescriptor.LENGTH,
                keys.txRingRefs(), features);
    }

    /** What the queue's RX ring asks of the strategies. */
    static RingRequest rxRingRequest(int domid, FrontendConfig.QueueKeys keys, Map<String, String> features) {
        return new RingRequest(domid, "netif-rx", NetifRxRequestDescriptor.LENGTH, NetifRxResponseDescriptor.LENGTH,
                keys.rxRingRefs(), features);
    }

    /**
     * Maps the queue's rings and binds its channels; on any failure releases what it took and
     * throws with netback's message ("mapping shared-frames ...").
     *
     * @param sink     this queue's host queue: TX writes there (and the reader of its frames for
     *                 the guest may be this queue's own, see {@link SinkReader})
     * @param strategy the strategy to prefer when it fits (an adopter's record), null for the fittest
     * @param live     re-attach to rings a previous backend served: both start at their published
     *                 rsp_prod ({@link BackRing#reattach}), what the last backend took and never
     *                 answered served again from its request mirrors, and the frontend gets one
     *                 event per port
     */
    static NetbackQueue connect(Vif vif, FrontendConfig cfg, FrontendConfig.QueueKeys keys, RingStrategies rings,
                                EventChannels channels, NativeIo io, PacketSink sink, int fatalSkbSlots, boolean busyPoll,
                                String cpus, String strategy, boolean live) {
        NetbackQueue q = new NetbackQueue(vif, keys.id(), cpus, busyPoll);
        int domid = vif.frontendDomid();
        Map<String, String> features = cfg.ringFeatures();
        try {
            q.txRequest = txRingRequest(domid, keys, features);
            q.rxRequest = rxRingRequest(domid, keys, features);
            boolean preferred = strategy != null && rings.rank(q.txRequest).contains(strategy)
                    && rings.rank(q.rxRequest).contains(strategy);
            q.txRing = preferred ? rings.open(q.txRequest, strategy) : rings.open(q.txRequest);
            q.rxRing = preferred ? rings.open(q.rxRequest, strategy) : rings.open(q.rxRequest);
            q.txEvent = channels.bindInterdomain(domid, keys.txEventChannel(), ch -> q.wake());
            q.rxEvent = keys.split() ? channels.bindInterdomain(domid, keys.rxEventChannel(), ch -> q.wake()) : q.txEvent;
            // Each ring's requests are mirrored for a successor: a TX or RX response overwrites its request's slot.
            BackRing txBack = BackRing.open(q.txRing.ring(), GeometryRingLayout.of(q.txRing.geometry()),
                    vif.requestMirror("queue-" + q.id + "-tx"), live);
            BackRing rxBack = BackRing.open(q.rxRing.ring(), GeometryRingLayout.of(q.rxRing.geometry()),
                    vif.requestMirror("queue-" + q.id + "-rx"), live);
            if (live) {
                // The old backend may have published responses and died before notifying.
                q.txEvent.notifyRemote();
                if (q.rxEvent != q.txEvent) {
                    q.rxEvent.notifyRemote();
                }
            }
            q.txBack = txBack;
            q.rxBack = rxBack;
            EventChannel txe = q.txEvent;
            EventChannel rxe = q.rxEvent;
            QueueMemory memory = QueueMemory.map(io, TxPath.BATCH_BYTES, TxPath.SPILL_BYTES, RxPath.BATCH_BYTES);
            q.memory = memory;
            q.tx = new TxPath(txBack, q.txRing.segments(), sink, q.stats, fatalSkbSlots,
                    Credit.of(cfg.creditBytes(), cfg.creditUsecs()), txe::notifyRemote, memory.part(0), memory.part(1));
            q.rx = new RxPath(rxBack, q.rxRing.segments(), q.stats, cfg.sg(),
                    new RxOffload(RxOffload.Accepts.of(cfg), q.stats), rxe::notifyRemote, memory.part(2));
            return q;
        } catch (RuntimeException e) {
            q.release();
            throw new io.backplane.api.backend.DeviceException("mapping shared-frames " + keys.describeRefs()
                    + " port tx " + keys.txEventChannel() + " rx " + keys.rxEventChannel() + ": " + e.getMessage(), e);
        }
    }

    void start() {
        running = true;
        Thread t = new Thread(this::run, name);
        t.setDaemon(true);
        worker = t;
        t.start();
        wake();
    }

    /**
     * Queues a frame from the sink for this queue's RX half, to go with the next
     * {@link #deliver()}. False when it was dropped (the backlog stayed full).
     */
    boolean offer(byte[] frame) {
        if (rx.waiting() >= RxPath.BACKLOG) {
            wake();                               // full: the worker drains while the reader waits
        }
        return rx.offer(frame, RX_WAIT_MILLIS);
    }

    /**
     * Delivers the queued frames from the calling thread when the worker is not at the RX ring
     * (Linux netback's start_xmit queues the skb and wakes the queue's thread; here the reader is
     * already awake): the frames the reader took in one wake-up go as one pass, one grant copy
     * batch and at most one notification. The worker is woken when frames still wait: the
     * frontend has no buffer posted, or the worker holds the ring.
     */
    void deliver() {
        boolean delivered = false;
        if (rxLock.tryLock()) {
            try {
                if (!released && running) {
                    while (rx.poll() && rx.waiting() > 0) {
                        // one budget per pass; go on while the frontend has buffers
                    }
                    delivered = rx.waiting() == 0;
                }
            } catch (RuntimeException e) {
                // The worker meets the same fault on its next pass and handles it (disables the vif).
            } finally {
                rxLock.unlock();
            }
        }
        if (!delivered) {
            wake();
        }
    }

    /**
     * Zero-copy RX on the sink's reader, once the sink said a frame waits: the frame is read
     * straight into the guest's posted RX pages when the strategy lends them
     * ({@link RxPath#receiveDirect}). The worker is woken when frames still wait (a spilled frame
     * found no buffer).
     *
     * @return an {@code RxPath.DIRECT_*} code; {@link RxPath#DIRECT_NOT_NOW}: nothing was read
     */
    int receiveDirect(PacketSink sink) {
        int taken;
        rxLock.lock();
        try {
            if (released || !running) {
                return RxPath.DIRECT_NOT_NOW;
            }
            taken = rx.receiveDirect(sink);
        } catch (RuntimeException e) {
            // The worker meets the same fault on its next pass and handles it (disables the vif).
            wake();
            return RxPath.DIRECT_NOT_NOW;
        } finally {
            rxLock.unlock();
        }
        if (rx.waiting() > 0) {
            wake();
        }
        return taken;
    }

    void wake() {
        Thread t = worker;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    /** Tells the worker to stop after its current pass, without waiting (from a fault path). */
    void stopAsync() {
        running = false;
        wake();
    }

    /**
     * Stops the worker after its current pass (requests it took are answered by then), then
     * unbinds the channels and unmaps the rings. Idempotent; safe from the worker itself.
     */
    void stop() {
        running = false;
        Thread t = worker;
        if (t == Thread.currentThread()) {
            releaseOnExit = true;          // the worker releases once its pass unwinds
            return;
        }
        if (t != null) {
            LockSupport.unpark(t);
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        release();
    }

    /**
     * A hand-over's stop: as {@link #stop()}, with the ports closed (the successor binds the
     * frontend's ports again), but the rings and buffers left mapped until {@link #unmapRings()}:
     * Xen lets the successor map the same grants meanwhile, so its re-attach need not wait.
     */
    void stopKeepingRings() {
        keepRings = true;
        stop();
    }

    /** After {@link #stopKeepingRings()}: unmaps the rings and gives the buffers back. */
    synchronized void unmapRings() {
        keepRings = false;
        releaseRings();
    }

    private synchronized void release() {
        rxLock.lock();
        try {
            released = true;
        } finally {
            rxLock.unlock();
        }
        closeQuietly(rxEvent != txEvent ? rxEvent : null);
        closeQuietly(txEvent);
        rxEvent = null;
        txEvent = null;
        if (!keepRings) {
            releaseRings();
        }
    }

    private void releaseRings() {
        closeQuietly(txRing);
        closeQuietly(rxRing);
        Thread t = worker;
        if (memory != null && (t == null || t == Thread.currentThread() || !t.isAlive())) {
            memory.unmap();                // the reader is kept off the RX path by released
        }
        txRing = null;
        rxRing = null;
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception e) {
                // already gone with its domain
            }
        }
    }

    private void run() {
        if (!cpus.isEmpty()) {
            affinity = CpuAffinity.pinCurrentThread(cpus);
        }
        BusyPoll spin = new BusyPoll();
        long flushed = System.nanoTime();
        try {
            while (running) {
                boolean worked = tx.poll();
                worked |= pollRx();
                // A batch boundary: both passes answered and pushed what they took. A hot swap
                // runs here; the loop then looks at the new rings before sleeping.
                worked |= boundary.runPending();
                if (worked) {
                    continue;
                }
                if (busyPoll) {
                    // No final check, so req_event is not re-armed and the frontend stops notifying: look again.
                    if (spin.spin() && System.nanoTime() - flushed > IDLE_NANOS) {
                        flushIdle();
                        flushed = System.nanoTime();
                    }
                    continue;
                }
                // About to sleep: re-arm the ports first, then look once more (final check). A
                // port with no event since it was last re-armed is still armed: no system call.
                if (txEvent.isMasked()) {
                    txEvent.unmask();
                }
                if (rxEvent != txEvent && rxEvent.isMasked()) {
                    rxEvent.unmask();
                }
                // Requests waiting for credit sleep until it comes, not until the next event.
                boolean blocked = tx.creditBlocked();
                if ((!blocked && tx.finalCheck()) || rxHasWork()) {
                    continue;
                }
                LockSupport.parkNanos(this, blocked ? Math.max(1, Math.min(IDLE_NANOS, tx.creditWaitNanos())) : IDLE_NANOS);
                flushIdle();
            }
        } catch (FrontendFault f) {
            running = false;
            if (frontendGone()) {
                vif.log("queue " + id + " stopped: the frontend closed its event channel (domain gone?)");
            } else {
                vif.disable("queue " + id + ": " + f.getMessage());
            }
        } catch (RuntimeException e) {
            running = false;
            if (frontendGone()) {
                vif.log("queue " + id + " stopped: the frontend closed its event channel (domain gone?)");
            } else {
                vif.disable("queue " + id + " failed: " + e);
            }
        } finally {
            stats.rxDropped.addAndGet(rx.waiting());
            if (releaseOnExit) {
                release();
            }
        }
    }

    private boolean pollRx() {
        rxLock.lock();
        try {
            return rx.poll();
        } finally {
            rxLock.unlock();
        }
    }

    /**
     * After a sleep: a strategy's deferred work (unmaps batched lazily, due after their delay)
     * gets its turn on an idle vif too, at least every IDLE_NANOS, as blkback's worker after its wait.
     */
    private void flushIdle() {
        tx.flush();
        rxLock.lock();
        try {
            rx.flush();
        } finally {
            rxLock.unlock();
        }
    }

    private boolean rxHasWork() {
        rxLock.lock();
        try {
            return rx.hasWork();
        } finally {
            rxLock.unlock();
        }
    }

    /**
     * A destroyed domain's pages read as zeros (its mappings are revoked) and its ports close a
     * moment later: what looks like a broken ring then is a frontend that is gone, not a
     * malicious one. Waits briefly for the port to close before calling it a fault.
     */
    private boolean frontendGone() {
        EventChannel e = txEvent;
        for (int i = 0; e != null && i < 10; i++) {
            if (e.remotePort() == 0) {
                return true;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
        return false;
    }

    /** Hot swap of both rings (see {@link RingHandover}), on the worker at its next batch boundary. */
    List<StrategySwap> swap(RingStrategies rings, String strategy) {
        return boundary.runAtBoundary(() -> {
            long start = System.nanoTime();
            String fromTx = txRing.strategy();
            RingHandover t = RingHandover.reopen(rings, txRequest, strategy, txRing, txBack);
            txBack = t.ring();
            txRing = t.channel();
            tx.rebind(t.ring(), t.channel().segments());
            long mid = System.nanoTime();
            String fromRx = rxRing.strategy();
            RingHandover r;
            rxLock.lock();                       // the reader stays off the ring meanwhile
            try {
                r = RingHandover.reopen(rings, rxRequest, strategy, rxRing, rxBack);
                rxBack = r.ring();
                rxRing = r.channel();
                rx.rebind(r.ring(), r.channel().segments());
            } finally {
                rxLock.unlock();
            }
            long end = System.nanoTime();
            return List.of(new StrategySwap("queue " + id + " tx", fromTx, t.channel().strategy(), (mid - start) / 1000),
                    new StrategySwap("queue " + id + " rx", fromRx, r.channel().strategy(), (end - mid) / 1000));
        }, this::wake, () -> running && worker != null && worker.isAlive(), 5000);
    }

    /** TX requests the adopted ring's last backend took and never answered, sent again from its mirror. */
    int txServedAgain() {
        return Math.max(0, txBack.replayedFromMirror());
    }

    /**
     * RX buffers the adopted ring's last backend took and never filled, taken over from its
     * mirror. Not a replay: a backend takes the guest's posted buffers ahead of the frames that
     * will fill them, so even a graceful hand-over leaves some taken and empty.
     */
    int rxBuffersTakenOver() {
        return Math.max(0, rxBack.replayedFromMirror());
    }

    List<RingRequest> ringRequests() {
        return txRequest == null ? List.of() : List.of(txRequest, rxRequest);
    }

    String strategy() {
        RingChannel r = txRing;
        return r == null ? "-" : r.strategy();
    }

    String ringDescription() {
        RingChannel r = txRing;
        return r == null ? "-" : r.geometry().describe();
    }

    void status(Map<String, String> out) {
        String p = "queue-" + id + "/";
        stats.putInto(out, p);
        RingChannel t0 = txRing;
        RingChannel r0 = rxRing;
        if (t0 != null && r0 != null) {
            // Both rings of a queue swap together; they differ only while a swap is under way.
            out.put(p + BackendDevice.STATUS_STRATEGY, t0.strategy().equals(r0.strategy()) ? t0.strategy()
                    : "tx " + t0.strategy() + " rx " + r0.strategy());
            out.put(p + BackendDevice.STATUS_RING_ORDER, Integer.toString(Integer.numberOfTrailingZeros(txRequest.ringRefs().length)));
        }
        out.put(p + "event-channels", txEvent == null ? "-" : rxEvent != txEvent
                ? "tx " + txEvent.port() + " rx " + rxEvent.port() : Integer.toString(txEvent.port()));
        out.put(p + "cpus", cpus.isEmpty() ? "any" : cpus + " (allowed: " + affinity + ")");
        if (busyPoll) {
            out.put(p + "busy-poll", "on");
        }
        TxPath t = tx;
        if (t != null && t.credit().limited()) {
            out.put(p + "rate", t.credit().describe());
            out.put(p + "credit-waits", Long.toString(t.credit().waits()));
        }
        RingChannel r = txRing;
        RingChannel rr = rxRing;
        out.put(p + "tx-ring", r == null ? "-" : r.geometry().describe());
        out.put(p + "rx-ring", rr == null ? "-" : rr.geometry().describe());
        if (r != null) {
            r.counters().forEach((k, v) -> out.put(p + "tx-ring/" + k, Long.toString(v)));
        }
        if (rr != null) {
            rr.counters().forEach((k, v) -> out.put(p + "rx-ring/" + k, Long.toString(v)));
        }
    }
}
