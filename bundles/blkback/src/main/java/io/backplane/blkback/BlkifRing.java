package io.backplane.blkback;

import static io.backplane.ring.layout.BlkifConstants.BLKIF_MAX_SEGMENTS_PER_REQUEST;
import static io.backplane.ring.layout.BlkifConstants.BLKIF_RSP_EOPNOTSUPP;
import static io.backplane.ring.layout.BlkifConstants.BLKIF_RSP_ERROR;
import static io.backplane.ring.layout.BlkifConstants.BLKIF_RSP_OKAY;

import io.backplane.api.backend.BackendContext;
import io.backplane.api.hypervisor.EventChannel;
import io.backplane.api.backend.StrategySwap;
import io.backplane.api.ring.RingChannel;
import io.backplane.api.ring.RingRequest;
import io.backplane.api.ring.RingStrategies;
import io.backplane.api.ring.SegmentCopy;
import io.backplane.api.ring.SegmentIo;
import io.backplane.nativeio.Errno;
import io.backplane.nativeio.IoVector;
import io.backplane.nativeio.NativeException;
import io.backplane.ring.BackRing;
import io.backplane.ring.BatchBoundary;
import io.backplane.ring.BlkifRequest;
import io.backplane.ring.BlkifResponse;
import io.backplane.ring.GeometryRingLayout;
import io.backplane.ring.RingHandover;
import io.backplane.ring.RingOverflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One request ring of a vbd and its worker thread (blkback.c's {@code xen_blkif_schedule} and
 * {@code __do_block_io_op}): takes each request off the ring once, validates the copy, does the
 * I/O on the image synchronously and answers only after it completed, so a response always
 * means done (and, after a flush, durable). A frontend that publishes an impossible req_prod
 * halts this ring and disables the vbd, nothing else.
 */
final class BlkifRing implements Runnable {
    private static final int PAGE = 4096;
    /**
     * How long the worker waits for its port before looking at the ring and its stop and swap
     * flags anyway (nothing else wakes it: it waits on the port itself).
     */
    private static final int WAIT_MILLIS = 100;
    /** Refusals logged one by one per ring; after that every 1000th (Linux logs them at debug level). */
    private static final long LOGGED_REFUSALS = 10;

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
    private final ByteBuffer data;
    /** One batch (one GNTTABOP_copy with grant copy) per request, and its GNTST codes. */
    private final List<SegmentCopy> batch = new ArrayList<>();
    private final int[] copyStatus;
    /** The guest pages of a zero-copy request, in segment order. */
    private final IoVector iov;
    private volatile EventChannel evtchn;
    private volatile boolean stopping;
    private volatile Thread thread;

    // Linux blkback's per-ring statistics (st_*); written by the worker only.
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
    private volatile String halted;

    /**
     * @param live re-attach to a ring a previous backend served: start at its published rsp_prod
     *             ({@link BackRing#reattach}); false: a fresh ring, at 0
     */
    BlkifRing(String name, BackendContext context, RingRequest ringRequest, RingChannel channel, VbdImage image,
              VbdFeatures features, boolean live) {
        this.name = name;
        this.ringRequest = ringRequest;
        this.context = context;
        this.channel = channel;
        this.io = channel.segments();
        this.image = image;
        this.checks = new RequestChecks(features, image.sectors(), image.readonly());
        this.ring = live ? BackRing.reattach(channel.ring(), GeometryRingLayout.of(channel.geometry()))
                : BackRing.attach(channel.ring(), GeometryRingLayout.of(channel.geometry()));
        int maxSegments = Math.max(features.maxIndirectSegments(),
                BLKIF_MAX_SEGMENTS_PER_REQUEST);
        this.preq = new PhysicalRequest(maxSegments);
        this.data = ByteBuffer.allocateDirect(maxSegments * PAGE);
        this.copyStatus = new int[maxSegments];
        this.iov = image.ioVector(maxSegments);
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
        Thread t = new Thread(this, "blkback " + context.id() + " " + name);
        t.setDaemon(true);
        thread = t;
        t.start();
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

    /** Unmaps the ring and closes its event channel; after {@link #stop()}. */
    void close() {
        EventChannel ch = evtchn;
        if (ch != null) {
            ch.close();
        }
        channel.close();
    }

    @Override
    public void run() {
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
                    int available = ring.unconsumedRequests();
                    for (int i = 0; i < available && !stopping; i++) {
                        ring.copyRequest(request);
                        answer(serve());
                    }
                    push();
                    // A batch boundary: everything taken is answered and pushed. A swap runs here,
                    // then the new ring is looked at again, so nothing published meanwhile waits.
                    if (boundary.runPending()) {
                        continue;
                    }
                    more = ring.finalCheckForRequests();
                }
                if (!stopping) {
                    evtchn.await(WAIT_MILLIS);
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
        }
    }

    private int serve() {
        int status = checks.check(request, io, preq);
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

    private int read() {
        if (directSegments(true)) {
            image.read(preq.sector, iov);
            io.flush();                           // ends the views' validity (a purge may run)
            rdReq++;
            rdSect += preq.sectors;
            directRequests++;
            return BLKIF_RSP_OKAY;
        }
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
        if (directSegments(false)) {
            image.write(preq.sector, iov);
            io.flush();
            wrReq++;
            wrSect += preq.sectors;
            directRequests++;
            return BLKIF_RSP_OKAY;
        }
        if (!fetchSegments()) {
            return BLKIF_RSP_ERROR;
        }
        image.write(preq.sector, data, preq.bytes());
        wrReq++;
        wrSect += preq.sectors;
        return BLKIF_RSP_OKAY;
    }

    /**
     * FLUSH_DISKCACHE and WRITE_BARRIER: this ring serves one request at a time, so everything
     * it answered before is written (the barrier's drain); data carried by the request is
     * written, then fdatasync makes all of it durable before the response goes out.
     */
    private int flush() {
        if (preq.segments > 0) {
            if (!fetchSegments()) {
                return BLKIF_RSP_ERROR;
            }
            image.write(preq.sector, data, preq.bytes());
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
     * pages. False (the vector unused) when any segment has no mapping: the request then goes
     * through the bounce buffer and the strategy's copy, which also reports refused grants.
     */
    private boolean directSegments(boolean toGuest) {
        iov.clear();
        for (int i = 0; i < preq.segments; i++) {
            ByteBuffer page = io.direct(preq.grefs[i], preq.offsets[i], preq.lengths[i], toGuest);
            if (page == null) {
                return false;
            }
            iov.add(page);
        }
        return true;
    }

    /** Copies every segment out of the guest; false when a grant was refused (nothing written). */
    private boolean fetchSegments() {
        batch.clear();
        int at = 0;
        for (int i = 0; i < preq.segments; i++) {
            batch.add(SegmentCopy.fromGuest(preq.grefs[i], preq.offsets[i], data, at, preq.lengths[i]));
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

    /** make_response: one response per request, published by {@link #push()} with the rest of its batch. */
    private void answer(int status) {
        response.id = request.id();
        response.operation = preq.responseOperation;
        response.status = status;
        ring.putResponse(response);
    }

    /**
     * RING_PUSH_RESPONSES_AND_CHECK_NOTIFY once per batch: every request taken is done by now,
     * and one notification (one EVTCHNOP_send, one interrupt in the guest) covers them all, where
     * a push per response costs the frontend an interrupt per request while it keeps up.
     */
    private void push() {
        if (!ring.responsesPublished() && ring.pushResponsesAndCheckNotify()) {
            evtchn.notifyRemote();
        }
    }

    /**
     * Hot swap (see {@link RingHandover}): on the worker at its next batch boundary, reopens the
     * ring with {@code strategy} (null: the fittest) and carries on at the same indexes.
     */
    StrategySwap swap(RingStrategies strategies, String strategy) {
        return boundary.runAtBoundary(() -> {
            long start = System.nanoTime();
            String from = channel.strategy();
            RingHandover h = RingHandover.reopen(strategies, ringRequest, strategy, channel, ring);
            ring = h.ring();
            io = h.channel().segments();
            channel = h.channel();
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

    String strategy() {
        return channel.strategy();
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
        if (halted != null) {
            s.put("halted", halted);
        }
        channel.counters().forEach((k, v) -> s.put(k, Long.toString(v)));
        return s;
    }
}
