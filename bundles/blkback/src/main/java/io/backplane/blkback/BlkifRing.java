package io.backplane.blkback;

import static io.backplane.ring.layout.BlkifConstants.BLKIF_MAX_SEGMENTS_PER_REQUEST;
import static io.backplane.ring.layout.BlkifConstants.BLKIF_RSP_EOPNOTSUPP;
import static io.backplane.ring.layout.BlkifConstants.BLKIF_RSP_ERROR;
import static io.backplane.ring.layout.BlkifConstants.BLKIF_RSP_OKAY;

import io.backplane.api.backend.BackendContext;
import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.hypervisor.EventChannel;
import io.backplane.api.backend.StrategySwap;
import io.backplane.api.ring.RingChannel;
import io.backplane.api.ring.RingRequest;
import io.backplane.api.ring.RingStrategies;
import io.backplane.api.ring.SegmentCopy;
import io.backplane.api.ring.SegmentIo;
import io.backplane.nativeio.Errno;
import io.backplane.nativeio.NativeException;
import io.backplane.ring.BackRing;
import io.backplane.ring.BatchBoundary;
import io.backplane.ring.BlkifRequest;
import io.backplane.ring.BlkifResponse;
import io.backplane.ring.GeometryRingLayout;
import io.backplane.ring.RingHandover;
import io.backplane.ring.RingOverflowException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;

/**
 * One request ring of a vbd and its worker thread (blkback.c's {@code xen_blkif_schedule} and
 * {@code __do_block_io_op}): takes each request off the ring once, validates the copy, and
 * answers only after its I/O completed, so a response always means done (and, after a flush,
 * durable). Zero-copy reads and writes go to {@link InFlightIo}, several at once, and are
 * answered by the thread that did them; requests taken together that follow each other on the
 * disk in the same direction become one I/O (the merge Linux's block layer does under blkback's
 * plug); everything else (flush, barrier, discard, bounce-buffer
 * I/O, refusals) waits until nothing is in flight and is done by the worker, so a flush covers
 * every write taken before it. The ring itself is touched under {@code ringLock} only. A
 * frontend that publishes an impossible req_prod halts this ring and disables the vbd, nothing
 * else.
 */
final class BlkifRing implements Runnable {
    private static final int PAGE = DomainConfig.PAGE_SIZE;
    /**
     * How long the worker waits for its port before looking at the ring and its stop and swap
     * flags anyway (nothing else wakes it: it waits on the port itself).
     */
    private static final int WAIT_MILLIS = 100;
    /** Refusals logged one by one per ring; after that every 1000th (Linux logs them at debug level). */
    private static final long LOGGED_REFUSALS = 10;
    /**
     * Zero-copy requests started since the strategy's last flush after which the worker waits for
     * a quiet moment to flush it (views it gave stay valid until then; a purge or a batch of
     * deferred unmaps waits for it).
     */
    private static final int FLUSH_EVERY = 64;

    /** {@code queue N}: log lines are prefixed with the device by the context. */
    private final String name;
    private final BackendContext context;
    /** What the ring was opened with: a hot swap opens the same request with another strategy. */
    private final RingRequest ringRequest;
    // Replaced by a hot swap, on the worker at a batch boundary; volatile for status().
    private volatile RingChannel channel;
    private SegmentIo io;
    private final VbdImage image;
    private final RequestChecks checks;
    private BackRing ring;
    private final BatchBoundary boundary = new BatchBoundary();
    private final BlkifRequest request = new BlkifRequest();
    private final BlkifResponse response = new BlkifResponse();
    private final PhysicalRequest preq;
    /** Guards the ring's indexes, {@link #response} and the counters: the worker and the I/O threads answer. */
    private final Object ringLock = new Object();
    private final InFlightIo inFlight;
    /** The zero-copy I/O being gathered from consecutive requests, not started yet (worker only). */
    private InFlightIo.Pending open;
    /**
     * One request's segments in place while they are looked up (worker only): an address, or a
     * view where the strategy gives views only (its address slot then 0).
     */
    private final long[] addresses;
    private final ByteBuffer[] views;
    /** Zero-copy requests started since the strategy's last {@code flush()} (worker only). */
    private int directSinceFlush;
    /** The bounce buffer, made at its first use (worker only; see {@link #data()}). */
    private ByteBuffer data;
    /** One batch (one GNTTABOP_copy with grant copy) per request, and its GNTST codes. */
    private final List<SegmentCopy> batch = new ArrayList<>();
    private final int[] copyStatus;
    private volatile EventChannel evtchn;
    private volatile boolean stopping;
    private volatile Thread thread;

    // Linux blkback's per-ring statistics (st_*); written under ringLock, or by the worker while
    // nothing is in flight.
    private volatile long rdReq;
    private volatile long wrReq;
    private volatile long flushReq;
    private volatile long discardReq;
    private volatile long rdSect;
    private volatile long wrSect;
    private volatile long errors;
    private volatile long unsupported;
    /** Reads and writes done straight between the image and the guest's pages. */
    private volatile long directRequests;
    /** Of those, the requests that joined the I/O of the one before them (one preadv/pwritev, one push). */
    private volatile long mergedRequests;
    /**
     * Waits that ended by their timeout with requests on the ring: a request whose event did not
     * wake the worker (lost, or later than {@code WAIT_MILLIS}), each a stall of up to that long.
     */
    private volatile long lateWakeups;
    private volatile String halted;
    /** When a re-attached ring was made, until its first answer is logged (0: not re-attached, or logged). */
    private long reattachedAt;
    /**
     * Of a re-attached ring's timeline (nanoTime, 0: not yet): its worker started, its first
     * request taken. This and {@link #openedIn}: the worker's thread only (it opens the ring).
     */
    private long workerStartedAt;
    private long firstTakenAt;
    private long firstAnsweredAt;
    /** The steps of a re-attached ring's opening, for its first-answer line (null: not said). */
    private OpeningSteps openedIn;
    /** Where the strategy records the grants it holds for a standby (null: nowhere). */
    private final Path grantRecord;

    /**
     * @param worker re-attach to a ring a previous backend served, to be served by this worker
     *               (with the I/O threads it started, if any): start at its published rsp_prod
     *               ({@link BackRing#reattach}); null: a fresh ring, at 0
     * @param mirror where the requests taken are mirrored for a successor (null: nowhere); when
     *               live, the previous backend's mirror, whose requests it took and did not answer
     *               are served again from there
     * @param grantRecord where the strategy records the grants it holds across requests (null:
     *               nowhere), made anew here and at each swap
     */
    BlkifRing(String name, BackendContext context, RingRequest ringRequest, RingChannel channel, VbdImage image,
              VbdFeatures features, Worker worker, Path mirror, Path grantRecord) {
        boolean live = worker != null;
        this.name = name;
        this.ringRequest = ringRequest;
        this.context = context;
        this.channel = channel;
        this.io = channel.segments();
        this.image = image;
        this.checks = new RequestChecks(features, image.sectors(), image.readonly());
        this.ring = BackRing.open(channel.ring(), GeometryRingLayout.of(channel.geometry()), mirror, live);
        this.reattachedAt = live ? System.nanoTime() : 0;
        this.grantRecord = grantRecord;
        recordGrants();
        int maxSegments = Math.max(features.maxIndirectSegments(),
                BLKIF_MAX_SEGMENTS_PER_REQUEST);
        this.preq = new PhysicalRequest(maxSegments);
        this.copyStatus = new int[maxSegments];
        this.addresses = new long[maxSegments];
        this.views = new ByteBuffer[maxSegments];
        this.inFlight = new InFlightIo(image, maxSegments, worker != null && worker.ioThreads() != null ? worker.ioThreads()
                : InFlightIo.threads(ioThreadName(context, name)), this::completed);
    }

    /**
     * Has the strategy keep the grants it holds across requests recorded for a standby (before
     * the worker starts, or on it after a swap); a failure is logged and costs only the
     * standby's early mapping.
     */
    private void recordGrants() {
        if (grantRecord != null) {
            try {
                io.recordGrants(grantRecord);
            } catch (RuntimeException e) {
                context.log(name + ": the grants held are not recorded for a standby (" + e.getMessage() + ")");
            }
        }
    }

    /** The frontend's port, bound to be awaited by the worker itself (xen_blkif_be_int wakes the ring's thread). */
    void bound(EventChannel channel) {
        this.evtchn = channel;
    }

    /**
     * One event for the frontend, before the worker starts on a re-attached ring: the old backend
     * may have published responses and died before notifying, with the frontend asleep waiting.
     * A spurious event costs a frontend one look at its ring.
     */
    void notifyFrontend() {
        evtchn.notifyRemote();
    }

    void start() {
        new Worker(threadName(context, name)).serve(this);
    }

    /** The name of the worker thread of ring {@code name} ({@code queue 0}) of a device. */
    static String threadName(BackendContext context, String name) {
        return "blkback " + context.id() + " " + name;
    }

    /** The name of the I/O threads of ring {@code name}. */
    private static String ioThreadName(BackendContext context, String name) {
        return threadName(context, name) + " io";
    }

    /**
     * A ring's worker thread, which serves the ring handed to it ({@link #serve}) or ends when none
     * comes ({@link #cancel}). A re-attach's worker ({@link #ahead}) is started before the ring is
     * opened, with the ring's I/O threads, and opens the ring itself ({@link #open}): under
     * emulation a new thread first ran 0.1-0.4 s after its start, and a thread woken by another's
     * hand-off ran 0.1-0.35 s later, both after the port was bound with the guest waiting.
     */
    static final class Worker implements Runnable {
        /** A queue's opening, run on its worker's thread (which then serves the ring, if handed it). */
        interface Opening {
            BlkifRing open();
        }

        /** This thread's orders in turn: an {@link Opening}, then the ring to serve, or {@code this} to end. */
        private final BlockingQueue<Object> orders = new LinkedBlockingQueue<>();
        private final CompletableFuture<BlkifRing> opened = new CompletableFuture<>();
        private final Thread thread;
        /** The ring's I/O threads, started with this worker (null: the ring starts its own). */
        private final ThreadPoolExecutor ioThreads;

        Worker(String name) {
            this(name, null);
        }

        private Worker(String name, ThreadPoolExecutor ioThreads) {
            this.ioThreads = ioThreads;
            thread = new Thread(this, name);       // no lambda: its first call spins a class, under emulation slowly
            thread.setDaemon(true);
            thread.start();
        }

        /** A worker for queue {@code queue} of a re-attached vbd, with its ring's I/O threads, all started now. */
        static Worker ahead(BackendContext context, String queue) {
            return new Worker(threadName(context, queue), InFlightIo.startedThreads(ioThreadName(context, queue)));
        }

        @Override
        public void run() {
            try {
                for (;;) {
                    Object order = orders.take();
                    if (order instanceof BlkifRing r) {
                        r.run();                   // its I/O threads are the ring's now
                        return;
                    }
                    if (!(order instanceof Opening o)) {
                        break;
                    }
                    try {
                        opened.complete(o.open());
                    } catch (RuntimeException e) {
                        opened.completeExceptionally(e);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (ioThreads != null) {
                ioThreads.shutdown();              // no ring took them
            }
        }

        /** Runs {@code opening} on this thread; the ring it makes (or its failure) comes with the result. */
        CompletableFuture<BlkifRing> open(Opening opening) {
            orders.add(opening);
            return opened;
        }

        /** {@code r} is served on this thread from now on (after the opening, when called from it), as {@link BlkifRing#start} would. */
        void serve(BlkifRing r) {
            r.thread = thread;
            orders.add(r);
        }

        /** Ends the thread if no ring was handed to it; nothing once one was. */
        void cancel() {
            orders.add(this);
        }

        /** The I/O threads started with this worker, for its ring (null: none). */
        ThreadPoolExecutor ioThreads() {
            return ioThreads;
        }
    }

    /**
     * Stops taking requests from now on (the worker sees it at its next look, at most
     * {@code WAIT_MILLIS} later); {@link #stop()} waits for that. Every ring of a device is told
     * first, so their waits overlap.
     */
    void stopTaking() {
        stopping = true;
    }

    /**
     * Stops taking requests; the one being served is finished and answered first. Requests
     * still on the ring stay there for the frontend to re-issue after reconnecting.
     */
    void stop() {
        stopping = true;
        Thread t = thread;
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (t.isAlive()) {
                context.log(name + ": worker did not stop within 10 s");
            }
        }
    }

    /** Closes the event channel, after {@link #stop()}: a successor can bind the frontend's port from here on. */
    void closeEventChannel() {
        EventChannel ch = evtchn;
        if (ch != null) {
            ch.close();
        }
    }

    /** The ring and its grants unmapped, after {@link #closeEventChannel()} (a hand-over's last step). */
    void unmap() {
        channel.close();
    }

    /** The steps of this ring's opening and what each took, said with its first answer after a re-attach. */
    void openedIn(OpeningSteps steps) {
        openedIn = steps;
    }

    @Override
    public void run() {
        workerStartedAt = System.nanoTime();
        try {
            while (!stopping) {
                // Re-arm the port before looking at the ring: a request published after our
                // final check is then delivered as a new event instead of slept through. (After
                // a wait that timed out it is still armed: no write to the device.)
                if (evtchn.isMasked()) {
                    evtchn.unmask();
                }
                boolean more = true;
                while (more && !stopping) {
                    flushWhenIdle();
                    int available = unconsumed();
                    while (available > 0 && !stopping) {
                        synchronized (ringLock) {
                            ring.copyRequest(request);
                        }
                        if (reattachedAt != 0 && firstTakenAt == 0) {
                            firstTakenAt = System.nanoTime();
                        }
                        // Looked at again before the last one: blkfront publishes the requests of
                        // one large I/O one by one, so more may have come while we took these.
                        available = available > 1 ? available - 1 : unconsumed();
                        take(available == 0);
                    }
                    endBatch();
                    // A batch boundary: everything the worker answered is pushed. A swap runs
                    // here (after the requests in flight ended), then the new ring is looked at
                    // again, so nothing published meanwhile waits.
                    if (boundary.runPending()) {
                        continue;
                    }
                    synchronized (ringLock) {
                        more = ring.finalCheckForRequests();
                    }
                }
                if (!stopping) {
                    if (firstAnsweredAt != 0 && reattachedAt != 0) {
                        logFirstAnswer();
                    }
                    if (!evtchn.await(WAIT_MILLIS) && unconsumed() > 0) {
                        lateWakeups++;
                    }
                    // Idle or not, a strategy's deferred work (a lazily batched unmap past its
                    // delay) gets its turn at least every WAIT_MILLIS.
                    io.flush();
                }
            }
        } catch (RingOverflowException e) {
            halted = e.getMessage();
            // blkback's words: "Frontend provided bogus ring requests ... Halting ring processing".
            context.fatal("Frontend provided bogus ring requests on " + name + " (" + e.getMessage()
                    + "). Halting ring processing");
        } catch (RuntimeException e) {
            halted = e.toString();
            context.fatal(name + ": ring worker failed: " + e);
        } finally {
            // Requests in flight (and any gathered) are answered before the ring may be unmapped.
            startOpen();
            inFlight.drain();
            inFlight.shutdown();
        }
    }

    private int unconsumed() {
        synchronized (ringLock) {
            return ring.unconsumedRequests();
        }
    }

    /**
     * Serves the request just copied: a zero-copy read or write joins the I/O gathered so far
     * when it follows it on the disk, else starts a new one; the gathered I/O goes in flight when
     * a request does not join it or this is the last one seen (done right here when nothing else
     * is in flight: no hand-off to wait for). Anything else first waits for what is in flight,
     * then is done and answered here.
     */
    private void take(boolean lastSeen) {
        int status = checks.check(request, io, preq);
        if (status == BLKIF_RSP_OKAY && (preq.kind == PhysicalRequest.Kind.READ
                || preq.kind == PhysicalRequest.Kind.WRITE)) {
            boolean read = preq.kind == PhysicalRequest.Kind.READ;
            if (directSegments(read)) {
                if (open != null && open.joins(read, preq.sector, preq.segments)) {
                    mergedRequests++;
                } else {
                    if (open != null) {
                        inFlight.submit(open); // more requests follow: overlap it with them
                    }
                    open = inFlight.slot();
                    open.begin(read, preq.sector);
                }
                open.add(preq.id, preq.responseOperation, preq.sectors, addresses, views, preq.lengths, preq.segments);
                directSinceFlush++;
                if (lastSeen) {
                    startOpen();
                }
                return;
            }
        }
        startOpen();
        quiesce();
        int answered = serve(status);
        synchronized (ringLock) {
            answer(preq.id, preq.responseOperation, answered);
        }
    }

    /** Puts the gathered I/O in flight: right here when nothing else is in flight, else on an I/O thread. */
    private void startOpen() {
        InFlightIo.Pending p = open;
        if (p == null) {
            return;
        }
        open = null;
        if (inFlight.idle()) {
            inFlight.runHere(p);
        } else {
            inFlight.submit(p);
        }
    }

    /**
     * End of a batch: starts what was gathered, pushes the worker's answers, and flushes the
     * strategy when nothing is in flight (or waits for that when it has not been flushed for a
     * while).
     */
    private void endBatch() {
        startOpen();
        if (directSinceFlush >= FLUSH_EVERY) {
            quiesce();
        } else {
            flushWhenIdle();
        }
        push();
        if (reattachedAt != 0 && firstAnsweredAt == 0 && rdReq + wrReq + flushReq + discardReq + errors + unsupported > 0) {
            // The adoption's timeline ends here: the guest has its first answer from this backend.
            firstAnsweredAt = System.nanoTime();
        }
    }

    /**
     * Logs a re-attached ring's first answer and the steps before it, once the ring is idle: a
     * log line's first run is slow under emulation, and the requests queued behind the first
     * must not wait for it.
     */
    private void logFirstAnswer() {
        Map<String, Long> counters = channel.counters();
        long prepared = counters.getOrDefault("prepared-ring-pages", 0L);
        long answered = firstAnsweredAt;
        long taken = firstTakenAt != 0 ? firstTakenAt : answered;
        context.log(name + ": first answer after the re-attach " + (answered - reattachedAt) / 1_000_000
                + " ms after its ring was " + (prepared > 0 ? "made from the pages held since before the owner went" : "mapped")
                + (openedIn != null ? " (" + openedIn.describe() + ")" : "")
                + "; its worker started " + (workerStartedAt - reattachedAt) / 1_000_000 + " ms after that, took the first request "
                + (taken - workerStartedAt) / 1_000_000 + " ms later and answered it " + (answered - taken) / 1_000_000
                + " ms later (" + counters.getOrDefault("persistent-maps", 0L) + " persistent grants mapped so far, in "
                + counters.getOrDefault("persistent-map-calls", 0L) + " calls"
                + (prepared > 0 ? ", beside " + counters.getOrDefault("persistent-prepared", 0L) + " mapped before the owner went and "
                + counters.getOrDefault("persistent-claim-maps", 0L) + " at the claim" : "") + ")");
        reattachedAt = 0;
    }

    /** Ends the strategy's batch if nothing is in flight (the quiet moment a purge waits for). */
    private void flushWhenIdle() {
        if (directSinceFlush > 0 && inFlight.idle()) {
            quiesce();
        }
    }

    /** Waits for every request in flight, then ends the strategy's batch: its views are no longer used. */
    private void quiesce() {
        inFlight.drain();
        if (directSinceFlush > 0) {
            io.flush();
            directSinceFlush = 0;
        }
    }

    /**
     * {@link InFlightIo.Completion}: answers the requests of a zero-copy I/O on the thread that
     * did it, every one with the I/O's outcome, and pushes them together.
     */
    private void completed(InFlightIo.Pending p, RuntimeException failure) {
        boolean notify;
        synchronized (ringLock) {
            int status = BLKIF_RSP_OKAY;
            if (failure == null) {
                if (p.read) {
                    rdReq += p.requests;
                    rdSect += p.sectors;
                } else {
                    wrReq += p.requests;
                    wrSect += p.sectors;
                }
                directRequests += p.requests;
            } else {
                status = failure instanceof NativeException n && n.errno() == Errno.EOPNOTSUPP
                        ? BLKIF_RSP_EOPNOTSUPP : BLKIF_RSP_ERROR;
                for (int i = 0; i < p.requests; i++) {
                    count(status);
                }
            }
            for (int i = 0; i < p.requests; i++) {
                answer(p.ids[i], p.operations[i], status);
            }
            // blkback's make_response: pushed at once, the guest waits for these.
            notify = ring.pushResponsesAndCheckNotify();
        }
        if (failure != null) {
            context.log(name + ": " + (p.read ? "READ" : "WRITE") + " of " + p.sectors + " sectors at " + p.sector
                    + " (" + p.requests + " request" + (p.requests == 1 ? "" : "s") + ") failed on " + image.path()
                    + ": " + failure.getMessage());
        }
        if (notify) {
            evtchn.notifyRemote();
        }
    }

    /** Does a request that is not in flight, nothing else being in flight; {@code status} is its check's. */
    private int serve(int status) {
        if (status != BLKIF_RSP_OKAY) {
            count(status);
            long refused = errors + unsupported;
            if (refused <= LOGGED_REFUSALS || refused % 1000 == 0) {
                context.log(name + ": request " + Long.toUnsignedString(request.id()) + " refused ("
                        + (status == BLKIF_RSP_EOPNOTSUPP ? "EOPNOTSUPP" : "ERROR") + "): " + checks.reason()
                        + (refused == LOGGED_REFUSALS ? "; further refusals are counted, logged every 1000th" : "")
                        + (refused > LOGGED_REFUSALS ? " (" + refused + " refused so far)" : ""));
            }
            return status;
        }
        try {
            status = switch (preq.kind) {
                case READ -> read();
                case WRITE -> write();
                case FLUSH, BARRIER -> flush();
                case DISCARD -> discard();
            };
        } catch (NativeException e) {
            status = e.errno() == Errno.EOPNOTSUPP ? BLKIF_RSP_EOPNOTSUPP : BLKIF_RSP_ERROR;
            context.log(name + ": " + preq.kind + " of " + preq.sectors + " sectors at " + preq.sector
                    + " failed on " + image.path() + ": " + e.getMessage());
        }
        count(status);
        return status;
    }

    /**
     * The bounce buffer, a request's largest (1 MiB with 256 indirect segments): made when a
     * request first needs it, not with the ring. Zero-copy strategies (persistent grants) rarely
     * do, and zeroing 1 MiB a ring is a page fault a page, hundreds of milliseconds of an
     * adoption under emulation.
     */
    private ByteBuffer data() {
        if (data == null) {
            data = ByteBuffer.allocateDirect(preq.grefs.length * PAGE);
        }
        return data;
    }

    /** Through the bounce buffer: the strategy gave no view of some segment. */
    private int read() {
        ByteBuffer data = data();
        image.read(preq.sector, data, preq.bytes());
        batch.clear();
        int at = 0;
        for (int i = 0; i < preq.segments; i++) {
            batch.add(SegmentCopy.toGuest(data, at, preq.grefs[i], preq.offsets[i], preq.lengths[i]));
            at += preq.lengths[i];
        }
        if (!copy()) {
            return BLKIF_RSP_ERROR;
        }
        rdReq++;
        rdSect += preq.sectors;
        return BLKIF_RSP_OKAY;
    }

    private int write() {
        if (!fetchSegments()) {
            return BLKIF_RSP_ERROR;
        }
        image.write(preq.sector, data(), preq.bytes());
        wrReq++;
        wrSect += preq.sectors;
        return BLKIF_RSP_OKAY;
    }

    /**
     * FLUSH_DISKCACHE and WRITE_BARRIER: nothing is in flight when this runs, so everything taken
     * before is written (the barrier's drain); data carried by the request is written, then
     * fdatasync makes all of it durable before the response goes out.
     */
    private int flush() {
        if (preq.segments > 0) {
            if (!fetchSegments()) {
                return BLKIF_RSP_ERROR;
            }
            image.write(preq.sector, data(), preq.bytes());
            wrSect += preq.sectors;
        }
        image.flush();
        flushReq++;
        return BLKIF_RSP_OKAY;
    }

    private int discard() {
        if (preq.sectors > 0) {
            image.discard(preq.sector, preq.sectors);
        }
        discardReq++;
        return BLKIF_RSP_OKAY;
    }

    /**
     * Zero copy: when the strategy gives every segment's page in place (persistent grants), the
     * request's I/O vector points at the guest's own memory and the image is read into it or
     * written from it with one preadv/pwritev, as blkback's bio goes straight to the granted
     * pages. The addresses (or views) go to {@link #addresses} and {@link #views}. False when any
     * segment has no mapping: the request then goes through the bounce buffer and the strategy's
     * copy, which also reports refused grants.
     */
    private boolean directSegments(boolean toGuest) {
        io.prepare(preq.grefs, preq.segments, toGuest);
        for (int i = 0; i < preq.segments; i++) {
            long address = io.directAddress(preq.grefs[i], preq.offsets[i], preq.lengths[i], toGuest);
            ByteBuffer page = null;
            if (address == 0) {
                page = io.direct(preq.grefs[i], preq.offsets[i], preq.lengths[i], toGuest);
                if (page == null) {
                    return false;
                }
            }
            addresses[i] = address;
            views[i] = page;
        }
        return true;
    }

    /** Copies every segment out of the guest; false when a grant was refused (nothing written). */
    private boolean fetchSegments() {
        batch.clear();
        int at = 0;
        for (int i = 0; i < preq.segments; i++) {
            batch.add(SegmentCopy.fromGuest(preq.grefs[i], preq.offsets[i], data(), at, preq.lengths[i]));
            at += preq.lengths[i];
        }
        return copy();
    }

    /** Runs the request's batch and completes it; false (logged) when a segment was refused. */
    private boolean copy() {
        io.copy(batch, copyStatus);
        io.flush();
        for (int i = 0; i < batch.size(); i++) {
            if (copyStatus[i] != 0) {
                context.log(name + ": request " + Long.toUnsignedString(preq.id) + ": segment " + i + " (gref "
                        + preq.grefs[i] + ") refused with GNTST " + copyStatus[i]);
                return false;
            }
        }
        return true;
    }

    private void count(int status) {
        if (status == BLKIF_RSP_ERROR) {
            errors++;
        } else if (status == BLKIF_RSP_EOPNOTSUPP) {
            unsupported++;
        }
    }

    /** make_response (under ringLock): the worker's answers are published by {@link #push()} with the rest of its batch. */
    private void answer(long id, int operation, int status) {
        response.id = id;
        response.operation = operation;
        response.status = status;
        ring.putResponse(response);
    }

    /**
     * RING_PUSH_RESPONSES_AND_CHECK_NOTIFY once per batch: every request taken is done by now,
     * and one notification (one EVTCHNOP_send, one interrupt in the guest) covers them all, where
     * a push per response costs the frontend an interrupt per request while it keeps up.
     */
    private void push() {
        boolean notify;
        synchronized (ringLock) {
            notify = !ring.responsesPublished() && ring.pushResponsesAndCheckNotify();
        }
        if (notify) {
            evtchn.notifyRemote();
        }
    }

    /**
     * Hot swap (see {@link RingHandover}): on the worker at its next batch boundary, reopens the
     * ring with {@code strategy} (null: the fittest) and carries on at the same indexes.
     */
    StrategySwap swap(RingStrategies strategies, String strategy) {
        return boundary.runAtBoundary(() -> {
            quiesce();                            // nothing in flight on the old mapping
            long start = System.nanoTime();
            String from = channel.strategy();
            RingHandover h = RingHandover.reopen(strategies, ringRequest, strategy, channel, ring);
            ring = h.ring();
            io = h.channel().segments();
            channel = h.channel();
            recordGrants();
            return new StrategySwap(name, from, h.channel().strategy(), (System.nanoTime() - start) / 1000);
        }, () -> { }, this::running, 5000); // the worker looks at least every WAIT_MILLIS
    }

    private boolean running() {
        Thread t = thread;
        return t != null && t.isAlive() && !stopping && halted == null;
    }

    RingRequest ringRequest() {
        return ringRequest;
    }

    /** Requests the adopted ring's last backend took and never answered, served again from its mirror (-1: no mirror). */
    int replayedFromMirror() {
        return ring.replayedFromMirror();
    }

    String strategy() {
        return channel.strategy();
    }

    /** {@code queue N}. */
    String name() {
        return name;
    }

    Map<String, String> status() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("ring", channel.geometry().describe());
        s.put("strategy", channel.strategy());
        s.put("rd_req", Long.toString(rdReq));
        s.put("wr_req", Long.toString(wrReq));
        s.put("f_req", Long.toString(flushReq));
        s.put("ds_req", Long.toString(discardReq));
        s.put("rd_sect", Long.toString(rdSect));
        s.put("wr_sect", Long.toString(wrSect));
        s.put("errors", Long.toString(errors));
        s.put("eopnotsupp", Long.toString(unsupported));
        s.put("zero-copy-requests", Long.toString(directRequests));
        s.put("merged-requests", Long.toString(mergedRequests));
        s.put("max-in-flight", Integer.toString(inFlight.maxInFlight()));
        s.put("late-wakeups", Long.toString(lateWakeups));
        if (halted != null) {
            s.put("halted", halted);
        }
        channel.counters().forEach((k, v) -> s.put(k, Long.toString(v)));
        return s;
    }
}
