package io.backplane.guest.blkfront;

import static io.backplane.api.backend.XenbusState.CLOSED;
import static io.backplane.api.backend.XenbusState.CLOSING;
import static io.backplane.api.backend.XenbusState.CONNECTED;
import static io.backplane.api.backend.XenbusState.INITIALISED;
import static io.backplane.api.backend.XenbusState.INITIALISING;

import io.backplane.api.backend.BlkifKeys;
import io.backplane.api.backend.XenbusKeys;
import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.xenstore.XenStore;
import io.backplane.api.xenstore.XsException;
import io.backplane.api.xenstore.XsOps;
import io.backplane.api.xenstore.XsWatch;
import io.backplane.guest.sim.GuestMemory;
import io.backplane.guest.sim.SimGuest;
import io.backplane.ring.RingShape;
import io.backplane.ring.layout.BlkifConstants;
import io.backplane.api.backend.XenbusState;
import io.backplane.api.log.OperatorLog;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A vbd frontend that behaves like Linux xen-blkfront: it reads the backend's offer, takes
 * min(own limit, offer) for the ring order, the queues and the indirect segments, writes its
 * keys in blkfront's order ({@code ring-page-order} only above 0, {@code multi-queue-num-queues}
 * only above 1, ring refs, {@code event-channel}, {@code queue-K/} for several queues,
 * {@code protocol}, {@code feature-persistent}, state 3, then 4 once the backend is Connected),
 * and when the backend closes it keeps its unanswered requests and re-issues them after
 * reconnecting (blkif_recover), so no request is lost.
 *
 * <p>One thread runs everything (xenbus state changes, submitting, harvesting), woken by the
 * backend's state watch and by the rings' event channels.
 */
public final class Blkfront implements AutoCloseable {
    private static final String PROTOCOL = BlkifConstants.XEN_IO_PROTO_ABI_X86_64;
    private static final int PAGE = DomainConfig.PAGE_SIZE;
    private static final long REPORT_EVERY_NANOS = 500_000_000L;
    /** Connection attempts the backend closed before Connected, in a row, before giving up. */
    private static final int MAX_REFUSED_ATTEMPTS = 3;

    private final SimGuest guest;
    private final XenStore xs;
    private final int devid;
    private final String dir;
    private final BlkfrontOptions opt;
    private final OperatorLog log;
    /** Where completed flushes are recorded (null: nowhere). */
    private final FlushRecord flushRecord;
    private final BlkStats stats = new BlkStats();
    private final Semaphore wake = new Semaphore(0);
    private final AtomicBoolean backendChanged = new AtomicBoolean(true);
    private final Thread thread;
    private final String backend;
    private final int backendDomid;
    private volatile boolean closing;
    private XsWatch watch;

    private XenbusState state = INITIALISING;
    private List<BlkfrontRing> rings = List.of();
    private boolean connected;
    private Workload workload;
    private final Deque<BlkIo> idle = new ArrayDeque<>();
    /** Unanswered requests of a closed ring, re-issued first after reconnecting. */
    private final Deque<BlkIo> recover = new ArrayDeque<>();
    private int ringOrder;
    private RingShape layout = RingShape.LEGACY;
    private int indirectSegments;
    private boolean persistent;
    private long lastReport;
    private long startNanos;
    private int nextQueue;
    private int refusedAttempts;
    private boolean stopAsked;

    private Blkfront(SimGuest guest, XenStore xs, int devid, BlkfrontOptions opt, OperatorLog log, FlushRecord flushRecord) {
        this.guest = guest;
        this.flushRecord = flushRecord;
        this.xs = xs;
        this.devid = devid;
        this.dir = "/local/domain/" + guest.domid() + "/device/vbd/" + devid;
        this.opt = opt;
        this.log = log.prefixed("vbd " + devid + ": ");
        this.backend = xs.read(dir + "/" + XenbusKeys.BACKEND);
        this.backendDomid = Integer.parseInt(xs.read(dir + "/" + XenbusKeys.BACKEND_ID));
        this.thread = new Thread(this::run, "blkfront-" + devid);
        thread.setDaemon(true);
    }

    /**
     * Starts the frontend of {@code device/vbd/<devid>} of this guest; {@code flushRecord}, when not
     * null, gets what each completed flush made durable.
     */
    public static Blkfront start(SimGuest guest, XenStore xs, int devid, BlkfrontOptions opt, OperatorLog log,
                                 FlushRecord flushRecord) {
        Blkfront f = new Blkfront(guest, xs, devid, opt, log, flushRecord);
        f.watch = xs.watch(f.backend + "/" + XenbusKeys.STATE, "blkfront-" + devid, (path, token) -> {
            f.backendChanged.set(true);
            f.wake.release();
        });
        f.thread.start();
        return f;
    }

    public int devid() {
        return devid;
    }

    public BlkStats stats() {
        return stats;
    }

    /** True once the workload has been issued, answered and (if asked) verified. */
    public boolean finished() {
        return "done".equals(stats.phase);
    }

    private void run() {
        try {
            while (!closing) {
                if (backendChanged.getAndSet(false)) {
                    onBackendState(xs.tryRead(backend + "/" + XenbusKeys.STATE).orElse(CLOSED.wire()));
                }
                boolean progressed = false;
                if (connected) {
                    progressed = harvest() > 0;
                    progressed |= issue() > 0;
                    report(false);
                }
                if (!progressed && !sleepless()) {
                    wake.tryAcquire(200, TimeUnit.MILLISECONDS);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            if (!closing) {
                log.info("stopped: " + e);
                stats.phase = "failed: " + e.getMessage();
                tryReport();
            }
        }
    }

    /** The final check of every ring: true when a response arrived meanwhile. */
    private boolean sleepless() {
        boolean more = false;
        if (connected) {
            for (BlkfrontRing r : rings) {
                more |= r.finalCheck();
            }
        }
        return more;
    }

    // ---- xenbus (blkback_changed)

    private void onBackendState(String value) {
        XenbusState be;
        try {
            be = XenbusState.ofWire(value);
        } catch (IllegalArgumentException e) {
            return; // not a xenbus state: nothing to follow
        }
        switch (be) {
            case INIT_WAIT -> {
                if (state == INITIALISING || state == CLOSED) {
                    talkToBlkback();
                }
            }
            case CONNECTED -> {
                if (state == INITIALISED) {
                    connectDisk();
                }
            }
            case CLOSING, CLOSED -> {
                if (state == INITIALISED || state == CONNECTED) {
                    suspend();
                } else if (state == INITIALISING && be == CLOSING) {
                    // blkfront_closing from Initialising: a backend that failed while we asked to
                    // reconnect waits in Closing for us to close; Closed lets it start over.
                    refusedAttempts++;
                    switchState(CLOSED);
                    log.info("backend closing before we connected: closed, to reconnect");
                }
                if (be == CLOSED && state == CLOSED && mayReconnect()) {
                    // Ask for a fresh connection: the backend answers Initialising with InitWait.
                    switchState(INITIALISING);
                }
            }
            default -> {
            }
        }
    }

    private boolean mayReconnect() {
        if (!opt.reconnect()) {
            return false;
        }
        if (refusedAttempts >= MAX_REFUSED_ATTEMPTS) {
            log.info("backend refused " + refusedAttempts + " connections in a row ("
                    + xs.tryRead(backend + "/" + XenbusKeys.ERROR).orElse("no reason given") + "): not reconnecting");
            stats.phase = "refused";
            tryReport();
            return false;
        }
        Optional<String> online = xs.tryRead(backend + "/" + XenbusKeys.ONLINE);
        return online.isPresent() && !online.get().equals("0");
    }

    /** talk_to_blkback: set up the rings and write the keys, then Initialised. */
    private void talkToBlkback() {
        int backendOrder = (int) number(backend + "/" + XenbusKeys.MAX_RING_PAGE_ORDER, 0);
        int backendQueues = (int) Math.max(1, number(backend + "/" + XenbusKeys.MULTI_QUEUE_MAX_QUEUES, 1));
        ringOrder = Math.min(opt.maxRingPageOrder(), backendOrder);
        int queues = Math.max(1, Math.min(opt.maxQueues(), backendQueues));
        layout = opt.layouts().and(RingShape.offered(k -> xs.tryRead(backend + "/" + k)));
        List<BlkfrontRing> made = new ArrayList<>();
        for (int q = 0; q < queues; q++) {
            made.add(BlkfrontRing.setup(guest, backendDomid, q, ringOrder, layout, wake::release));
        }
        rings = made;
        xs.transaction(tx -> {
            if (ringOrder > 0) {
                tx.write(dir + "/" + XenbusKeys.RING_PAGE_ORDER, Integer.toString(ringOrder));
            }
            if (queues == 1) {
                writeRing(tx, dir, made.get(0));
            } else {
                tx.write(dir + "/" + XenbusKeys.MULTI_QUEUE_NUM_QUEUES, Integer.toString(queues));
                for (BlkfrontRing r : made) {
                    writeRing(tx, dir + "/" + XenbusKeys.queueDir(r.queue()), r);
                }
            }
            tx.write(dir + "/" + BlkifKeys.PROTOCOL, PROTOCOL);
            tx.write(dir + "/" + XenbusKeys.FEATURE_PERSISTENT, opt.persistent() ? "1" : "0");
            if (!opt.unmapBatch().isEmpty()) {
                tx.write(dir + "/" + XenbusKeys.REQUEST_UNMAP_BATCH, opt.unmapBatch().replace(':', ','));
            }
            // The chosen layout features as 1; one chosen at an earlier connect but not now goes,
            // so a frontend on ring.h's layout has none of the keys.
            for (String key : RingShape.KEYS) {
                if (layout.features().containsKey(key)) {
                    tx.write(dir + "/" + key, "1");
                } else if (tx.tryRead(dir + "/" + key).isPresent()) {
                    tx.rm(dir + "/" + key);
                }
            }
            return null;
        });
        switchState(INITIALISED);
        log.info("initialised: " + queues + (queues == 1 ? " queue" : " queues") + ", ring order " + ringOrder
                + ", ring layout " + layout.describe() + " (backend offers " + backendOrder + ", " + backendQueues + " queues)");
    }

    private void writeRing(XsOps tx, String at, BlkfrontRing r) {
        int[] refs = r.ringRefs();
        int pages = layout.separateRings() ? refs.length / 2 : refs.length;
        for (int i = 0; i < refs.length; i++) {
            String base = i < pages ? XenbusKeys.RING_REF : RingShape.RSP_RING_REF;
            tx.write(at + "/" + (pages == 1 ? base : base + (i % pages)), Integer.toString(refs[i]));
        }
        tx.write(at + "/" + XenbusKeys.EVENT_CHANNEL, Integer.toString(r.eventChannel()));
    }

    /** blkfront_connect: read the disk and the features, Connected, re-issue what was lost. */
    private void connectDisk() {
        long sectors = number(backend + "/" + BlkifKeys.SECTORS, 0);
        long sectorSize = number(backend + "/" + BlkifKeys.SECTOR_SIZE, 512);
        if (sectorSize != 512 || sectors == 0) {
            log.info("backend offers " + sectors + " sectors of " + sectorSize + " bytes: not usable");
            switchState(CLOSING);
            return;
        }
        boolean flush = number(backend + "/" + BlkifKeys.FEATURE_FLUSH_CACHE, 0) == 1;
        boolean discard = number(backend + "/" + BlkifKeys.FEATURE_DISCARD, 0) == 1;
        persistent = opt.persistent() && number(backend + "/" + XenbusKeys.FEATURE_PERSISTENT, 0) == 1;
        indirectSegments = (int) Math.min(opt.maxIndirectSegments(), number(backend + "/" + BlkifKeys.FEATURE_MAX_INDIRECT_SEGMENTS, 0));
        int maxSegments = Math.max(BlkifConstants.BLKIF_MAX_SEGMENTS_PER_REQUEST, indirectSegments);
        if (workload == null) {
            workload = new Workload(opt, sectors, maxSegments * 8, flush, discard, stats, log, flushRecord);
            allocateSlots((Math.min(opt.maxSectors(), maxSegments * 8) + 7) / 8);
        }
        switchState(CONNECTED);
        connected = true;
        refusedAttempts = 0;
        if (startNanos == 0) {
            startNanos = System.nanoTime();
        } else {
            stats.reconnects++;
            stats.sentAtReconnect = stats.sent;
        }
        stats.phase = phaseName();
        writeNegotiated();
        log.info("connected: " + sectors + " sectors, " + rings.size() + (rings.size() == 1 ? " queue" : " queues") + ", ring order " + ringOrder
                + ", indirect segments " + indirectSegments + (persistent ? ", persistent grants" : "")
                + (flush ? ", flush" : "") + (discard ? ", discard" : "")
                + (recover.isEmpty() ? "" : ", re-issuing " + recover.size() + " requests"));
        report(true);
    }

    /** Data slots for {@code depth} requests: consecutive pages granted once, plus an indirect page. */
    private void allocateSlots(int pagesPerSlot) {
        GuestMemory mem = guest.memory();
        for (int i = 0; i < opt.depth(); i++) {
            long frame = mem.allocPages(pagesPerSlot);
            int[] refs = new int[pagesPerSlot];
            for (int p = 0; p < pagesPerSlot; p++) {
                refs[p] = guest.grants().grantAccess(backendDomid, frame + p, false);
            }
            long ind = mem.allocPage();
            int indRef = guest.grants().grantAccess(backendDomid, ind, true);
            idle.add(new BlkIo(mem.pages(frame, pagesPerSlot), refs, mem.page(ind), indRef));
        }
    }

    /** blkfront_closing and blkif_free: keep what is unanswered, drop the rings, Closed. */
    private void suspend() {
        if (connected) {
            harvest();
        } else {
            refusedAttempts++;
        }
        connected = false;
        for (BlkfrontRing r : rings) {
            for (BlkIo io : r.unanswered()) {
                io.reissued = true;
                recover.add(io);
            }
            r.close();
        }
        rings = List.of();
        switchState(CLOSED);
        stats.phase = "closed";
        log.info("backend closed: " + recover.size() + " unanswered requests kept for re-issue");
        tryReport();
    }

    // ---- data path

    private int harvest() {
        int n = 0;
        for (BlkfrontRing r : rings) {
            n += r.harvest(this::answered);
        }
        return n;
    }

    private void answered(BlkIo io, int status) {
        stats.answered++;
        boolean ok = status == BlkifConstants.BLKIF_RSP_OKAY;
        if (ok) {
            stats.okay++;
            switch (io.op) {
                case READ -> {
                    stats.reads++;
                    stats.sectorsRead += io.sectors;
                }
                case WRITE -> {
                    stats.writes++;
                    stats.sectorsWritten += io.sectors;
                }
                case FLUSH -> stats.flushes++;
                case DISCARD -> stats.discards++;
            }
        } else if (status == BlkifConstants.BLKIF_RSP_EOPNOTSUPP) {
            stats.unsupported++;
            log.info(io + " answered EOPNOTSUPP");
        } else {
            stats.failed++;
            log.info(io + " answered ERROR (" + status + ")");
        }
        workload.complete(io, ok);
        idle.add(io);
    }

    private int issue() {
        int n = 0;
        while (!recover.isEmpty() && pickRing() != null) {
            BlkfrontRing r = pickRing();
            r.submit(recover.remove(), devid);
            stats.reissued++;
            n++;
        }
        while (recover.isEmpty() && !idle.isEmpty()) {
            BlkfrontRing r = pickRing();
            if (r == null) {
                break;
            }
            BlkIo io = idle.peek();
            if (!workload.next(io)) {
                break;
            }
            idle.remove();
            r.submit(io, devid);
            stats.sent++;
            n++;
        }
        if (n > 0) {
            for (BlkfrontRing r : rings) {
                r.push();
            }
        }
        if (workload.finished() && !"done".equals(stats.phase)) {
            stats.elapsedMillis = (System.nanoTime() - startNanos) / 1_000_000;
            stats.phase = "done";
            log.info("workload done: " + stats);
            report(true);
        } else if (!"done".equals(stats.phase)) {
            stats.phase = phaseName();
        }
        return n;
    }

    /** The workload's phase for stats/phase; "done" only once everything is answered. */
    private String phaseName() {
        Workload.Phase p = workload.phase();
        return p == Workload.Phase.DONE ? "draining" : p.name().toLowerCase();
    }

    /** Round robin over the queues that have room. */
    private BlkfrontRing pickRing() {
        for (int i = 0; i < rings.size(); i++) {
            BlkfrontRing r = rings.get((nextQueue + i) % rings.size());
            if (r.canSubmit()) {
                nextQueue = (nextQueue + i + 1) % rings.size();
                return r;
            }
        }
        return null;
    }

    // ---- XenStore

    private void switchState(XenbusState s) {
        state = s;
        xs.write(dir + "/" + XenbusKeys.STATE, s.wire());
    }

    private long number(String path, long otherwise) {
        try {
            return xs.tryRead(path).map(String::trim).map(Long::parseLong).orElse(otherwise);
        } catch (NumberFormatException e) {
            return otherwise;
        }
    }

    private void writeNegotiated() {
        xs.write(dir + "/stats/queues", Integer.toString(rings.size()));
        xs.write(dir + "/stats/ring-page-order", Integer.toString(ringOrder));
        xs.write(dir + "/stats/ring-layout", layout.describe());
        xs.write(dir + "/stats/indirect-segments", Integer.toString(indirectSegments));
        xs.write(dir + "/stats/persistent", persistent ? "1" : "0");
    }

    private void report(boolean now) {
        long t = System.nanoTime();
        if (!now && t - lastReport < REPORT_EVERY_NANOS) {
            return;
        }
        if (!"done".equals(stats.phase) && startNanos != 0) {
            stats.elapsedMillis = (t - startNanos) / 1_000_000;
        }
        lastReport = t;
        if (workload != null && !stopAsked && "1".equals(xs.tryRead(dir + "/" + Blkfronts.STOP_KEY).orElse(""))) {
            stopAsked = true;
            workload.stop();
            log.info("asked to stop: ending the random phase after " + stats.sent + " requests");
        }
        xs.transaction(tx -> {
            stats.asMap().forEach((k, v) -> tx.write(dir + "/stats/" + k, v));
            return null;
        });
    }

    private void tryReport() {
        try {
            report(true);
        } catch (XsException e) {
            // the device directory may be gone (detached)
        }
    }

    /** Stops the frontend thread; the rings stay as they are (the domain is going away). */
    @Override
    public void close() {
        closing = true;
        wake.release();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (watch != null) {
            try {
                watch.close();
            } catch (RuntimeException e) {
                // connection already gone
            }
        }
    }
}
