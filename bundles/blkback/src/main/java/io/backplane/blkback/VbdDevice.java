package io.backplane.blkback;

import io.backplane.api.backend.BackendContext;
import io.backplane.api.backend.BackendDevice;
import io.backplane.api.backend.BlkifKeys;
import io.backplane.api.backend.DeviceException;
import io.backplane.api.backend.PreparedAdoption;
import io.backplane.api.backend.StrategySwap;
import io.backplane.api.backend.XenbusKeys;
import io.backplane.api.hypervisor.EventChannels;
import io.backplane.api.ring.PreparedRing;
import io.backplane.api.ring.RingChannel;
import io.backplane.api.ring.RingException;
import io.backplane.api.ring.RingRequest;
import io.backplane.api.ring.RingStrategies;
import io.backplane.nativeio.NativeIo;
import io.backplane.ring.BackRing;
import io.backplane.ring.BlkifRequest;
import io.backplane.ring.BlkifResponse;
import io.backplane.ring.LegacyRingLayout;
import io.backplane.ring.RequestMirror;
import io.backplane.ring.RingHandover;
import io.backplane.ring.layout.BlkifConstants;
import io.backplane.ring.layout.BlkifRequestDescriptor;
import io.backplane.ring.layout.BlkifResponseDescriptor;
import io.backplane.ring.layout.SharedRingDescriptor;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * One vbd (xenbus.c's {@code backend_info} with its {@code xen_blkif}): the image opened at
 * probe, the rings opened at connect, one {@link BlkifRing} worker per queue.
 */
final class VbdDevice implements BackendDevice {
    private final BackendContext context;
    private final VbdImage image;
    private final boolean discardEnabled;
    /** The offer as of the last connect: a re-negotiation changes it, then the frontend reconnects. */
    private volatile VbdFeatures features;
    private final int info;
    private final RingStrategies strategies;
    private final EventChannels eventChannels;
    private final List<BlkifRing> rings = new ArrayList<>();
    /** What status() reads without the device lock (the shell may ask while a disconnect drains). */
    private volatile List<BlkifRing> live = List.of();
    private volatile FrontendRings frontend;
    private boolean removed;

    VbdDevice(BackendContext context, VbdImage image, boolean discardEnabled, int info,
              RingStrategies strategies, EventChannels eventChannels) {
        this.context = context;
        this.image = image;
        this.discardEnabled = discardEnabled;
        this.features = VbdFeatures.of(context.negotiation().offer(), discardEnabled);
        this.info = info;
        this.strategies = strategies;
        this.eventChannels = eventChannels;
    }

    @Override
    public synchronized void connect() {
        if (removed) {
            throw new DeviceException("vbd " + context.id() + " was removed");
        }
        disconnect();
        features = VbdFeatures.of(context.negotiation().offer(), discardEnabled);
        FrontendRings fe = FrontendRings.read(context, features);
        rings.addAll(openRings(fe, null, false, null, null));
        writeConnectKeys(fe);
        for (BlkifRing r : rings) {
            r.start();
        }
        frontend = fe;
        live = List.copyOf(rings);
        context.log("connected: " + rings.size() + (rings.size() == 1 ? " queue" : " queues") + ", "
                + fe.ringPages() + (fe.ringPages() == 1 ? " ring page" : " ring pages") + ", protocol " + fe.protocol()
                + (fe.persistent() ? ", persistent grants" : "") + ", ring layout " + fe.shape().describe() + ", " + image.sectors() + " sectors of "
                + image.path() + (image.readonly() ? " (read-only)" : ""));
    }

    /**
     * Re-attach to the rings a previous backend left Connected (see {@link BackendDevice#adopt}):
     * the frontend's keys are read as at connect, against the recorded offer, and must say what
     * was recorded then; each ring is opened with the recorded strategy when it is still
     * registered and served from its published rsp_prod. Nothing is written to XenStore.
     */
    @Override
    public void adopt(Map<String, String> recorded) {
        reattach(recorded, null);
    }

    /**
     * {@link #adopt(Map)} with what this process prepared as a standby ({@link #prepare}): the
     * frontend's keys as read then (the core claimed the device on the record they were read
     * under), and each queue's ring and persistent grants mapped already; at the claim the grant
     * record (moved here with the mirrors) is read again, the grants the owner mapped since are
     * mapped and those it let go of released, and what is left to do in the pause is the ring
     * and its mirror, the port and the worker.
     */
    @Override
    public void adopt(Map<String, String> recorded, PreparedAdoption prepared) {
        if (prepared instanceof VbdPrepared p) {
            reattach(recorded, p);
        } else {
            prepared.close();
            reattach(recorded, null);
        }
    }

    private synchronized void reattach(Map<String, String> recorded, VbdPrepared prepared) {
        if (removed) {
            if (prepared != null) {
                prepared.close();
            }
            throw new DeviceException("vbd " + context.id() + " was removed");
        }
        disconnect();
        long begin = System.nanoTime();
        features = VbdFeatures.of(context.negotiation().offer(), discardEnabled);
        FrontendRings fe;
        List<PreparedRing> held = null;
        List<BlkifRing.Worker> workers = null;
        if (prepared != null) {
            fe = prepared.frontend();
            held = prepared.take();
            workers = prepared.workers();
        } else {
            fe = FrontendRings.read(context, features);
        }
        try {
            BackendDevice.requireRecorded(decided(fe), recorded);
        } catch (RuntimeException e) {
            if (held != null) {
                VbdPrepared.close(held);
                workers.forEach(BlkifRing.Worker::cancel);
            }
            throw e;
        }
        long keys = System.nanoTime();
        rings.addAll(openRings(fe, recorded.get(STATUS_STRATEGY), true, held, workers));   // each serving since its port was bound
        frontend = fe;
        live = List.copyOf(rings);
        int replayed = rings.stream().mapToInt(BlkifRing::replayedFromMirror).filter(n -> n > 0).sum();
        context.log("re-attached: " + rings.size() + (rings.size() == 1 ? " queue" : " queues") + " at their published responses"
                + (replayed > 0 ? " (" + replayed + " requests the last backend took and never answered served again from its request mirror)" : "")
                + ", "
                + fe.ringPages() + (fe.ringPages() == 1 ? " ring page" : " ring pages") + ", strategy " + rings.get(0).strategy()
                + ", " + image.sectors() + " sectors of " + image.path() + " (frontend keys "
                + (held != null ? "as read when it was prepared" : (keys - begin) / 1_000_000 + " ms") + ", rings "
                + (held != null ? "opened" : "mapped") + " and ports bound " + (System.nanoTime() - keys) / 1_000_000 + " ms"
                + (held != null ? ": " + String.join("; ", rings.stream().map(VbdDevice::foundMapped).toList()) : "") + ")");
    }

    /** What a ring's adoption found mapped, and mapped at the claim, as its counters say. */
    private static String foundMapped(BlkifRing r) {
        Map<String, String> s = r.status();
        String pages = s.get("prepared-ring-pages");
        if (pages == null) {
            return r.name() + " mapped at the claim, nothing held";
        }
        return r.name() + " had its " + pages + " ring pages and " + s.get("persistent-prepared")
                + " persistent grants mapped before the owner went; " + s.get("persistent-claim-maps") + " more mapped at the claim in "
                + s.get("persistent-claim-map-calls") + " calls, " + s.get("persistent-claim-dropped") + " the owner let go of released";
    }

    /**
     * A standby's preparation of {@link #adopt} while the live owner serves the vbd
     * ({@code BackendDriver.prepareAdoption}): the frontend's keys read and checked against the
     * record, then each queue's ring mapped by the recorded strategy with the persistent grants
     * the owner's grant record names ({@code ownerFiles}, read only). Nothing else of the device
     * is touched: no image, no port. Null when the record names no strategy.
     */
    static VbdPrepared prepare(BackendContext context, Map<String, String> recorded, RingStrategies strategies,
                               Optional<Path> ownerFiles) {
        long begin = System.nanoTime();
        String strategy = recorded.get(STATUS_STRATEGY);
        if (strategy == null) {
            return null;
        }
        VbdFeatures features = VbdFeatures.of(context.negotiation().offer(), true);
        FrontendRings fe = FrontendRings.read(context, features);
        BackendDevice.requireRecorded(decided(fe), recorded);
        List<PreparedRing> rings = new ArrayList<>();
        try {
            for (int q = 0; q < fe.queues().size(); q++) {
                RingRequest request = ringRequest(context, fe, features, q);
                int queue = q;
                Path record = ownerFiles.map(d -> grantRecord(d, queue)).orElse(null);
                rings.add(strategies.rank(request).contains(strategy) ? strategies.prepare(request, strategy, record) : null);
            }
        } catch (RuntimeException e) {
            VbdPrepared.close(rings);
            throw e;
        }
        int pages = rings.stream().filter(java.util.Objects::nonNull).mapToInt(PreparedRing::ringPages).sum();
        int grants = rings.stream().filter(java.util.Objects::nonNull).mapToInt(PreparedRing::grants).sum();
        List<BlkifRing.Worker> workers = new ArrayList<>();
        for (int q = 0; q < fe.queues().size(); q++) {
            workers.add(BlkifRing.Worker.ahead(context, queueName(q)));
        }
        // Said last: the preparation is what the adoption finds from here on.
        context.log("holding " + pages + " ring pages and " + grants + " persistent grants ready for adoption ("
                + fe.queues().size() + (fe.queues().size() == 1 ? " queue" : " queues") + " of strategy " + strategy
                + ", mapped beside its owner in " + (System.nanoTime() - begin) / 1_000_000 + " ms)");
        return new VbdPrepared(fe, rings, workers);
    }

    /**
     * A standby's rehearsal of {@link #adopt} ({@code BackendDriver.rehearseAdoption}): the
     * frontend's keys read and checked against the record and the strategies ranked for each
     * ring, as the adoption will; then, in {@code scratch} (none: skipped), a one-page blkif ring
     * in private memory re-attached through a request mirror with a request left in it (the
     * replay after a kill) and a sector written and read back through a scratch image. The vbd's
     * image, rings and ports are not touched.
     */
    static void rehearse(BackendContext context, Map<String, String> recorded, RingStrategies strategies,
                           NativeIo io, Optional<Path> scratch) {
        VbdFeatures features = VbdFeatures.of(context.negotiation().offer(), true);
        FrontendRings fe = FrontendRings.read(context, features);
        BackendDevice.requireRecorded(decided(fe), recorded);
        for (int q = 0; q < fe.queues().size(); q++) {
            strategies.rank(ringRequest(context, fe, features, q));
        }
        if (scratch.isEmpty()) {
            return;
        }
        BlkifResponse response = new BlkifResponse();
        response.id = 7;
        response.operation = BlkifConstants.BLKIF_OP_WRITE;
        response.status = BlkifConstants.BLKIF_RSP_OKAY;
        BackRing.rehearse(LegacyRingLayout.ofPages(1, SharedRingDescriptor.BLKIF_ENTRY_LENGTH),
                RequestMirror.file(scratch.get(), "rehearsal"), new BlkifRequest().operation(BlkifConstants.BLKIF_OP_WRITE)
                        .id(7).nrSegments(1).segment(0, 0, 0, 7), new BlkifRequest(), response);
        Path file = scratch.get().resolve("rehearsal.img");
        try {
            try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
                f.setLength(REHEARSAL_IMAGE_BYTES);
            }
            try (VbdImage image = VbdImage.open(io, file, true)) {
                ByteBuffer sector = ByteBuffer.allocateDirect(VbdImage.SECTOR_SIZE);
                image.write(1, sector, VbdImage.SECTOR_SIZE);
                image.read(1, sector, VbdImage.SECTOR_SIZE);
                image.ioVector(1);
                image.flush();
            }
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Big enough to be a disk; sparse, in the standby's own state directory. */
    private static final int REHEARSAL_IMAGE_BYTES = 64 * 1024;

    @Override
    public Map<String, String> connection() {
        FrontendRings fe = frontend;
        List<BlkifRing> now = live;
        if (fe == null || now.isEmpty()) {
            return Map.of();
        }
        Map<String, String> c = decided(fe);
        c.put(STATUS_STRATEGY, now.get(0).strategy());
        return c;
    }

    /** What the frontend's keys and the offer decided at connect: an adopter finds the same or refuses. */
    private static Map<String, String> decided(FrontendRings fe) {
        Map<String, String> c = new LinkedHashMap<>();
        c.put(BlkifKeys.PROTOCOL, fe.protocol());
        c.put(STATUS_QUEUES, Integer.toString(fe.queues().size()));
        c.put(STATUS_RING_ORDER, Integer.toString(fe.ringPageOrder()));
        c.put("layout", fe.shape().describe());
        c.put(VbdFeatures.PERSISTENT, fe.persistent() ? "1" : "0");
        return c;
    }

    /**
     * Every queue's ring opened at once, each on a thread of its own (the guest waits for all of
     * them after a re-attach: mapping, the request mirror and binding the port are a few hundred
     * ms a ring under emulation); when one fails, those opened are closed and the first failure
     * is thrown.
     *
     * @param strategy the strategy to prefer (an adopter's record), null for the fittest
     * @param live     re-attach to rings a previous backend served (each queue opened on its
     *                 worker's thread, serving from its bind on; stopped again when another fails)
     * @param prepared each queue's ring as a standby prepared it (null, or null entries: nothing),
     *                 taken over: opened or closed
     * @param workers  each queue's worker a standby started ({@link BlkifRing.Worker#ahead}; null:
     *                 started here for a live ring), taken over: serving or ended
     */
    private List<BlkifRing> openRings(FrontendRings fe, String strategy, boolean live, List<PreparedRing> prepared,
                                      List<BlkifRing.Worker> workers) {
        int n = fe.queues().size();
        List<CompletableFuture<BlkifRing>> opening = new ArrayList<>();
        List<BlkifRing> opened = new ArrayList<>();
        RuntimeException failure = null;
        // Each queue is opened on its worker's thread; a re-attached one serves it from its bind
        // on (no thread to wake, nor one to start, with the guest waiting), a new one ends after
        // the opening and the ring is started once connected.
        for (int q = 0; q < n; q++) {
            String name = queueName(q);
            BlkifRing.Worker w = workers != null ? workers.get(q)
                    : live ? BlkifRing.Worker.ahead(context, name) : new BlkifRing.Worker(BlkifRing.threadName(context, name));
            opening.add(w.open(new QueueOpening(fe, q, strategy, prepared == null ? null : prepared.get(q), w, live)));
        }
        for (CompletableFuture<BlkifRing> f : opening) {
            try {
                opened.add(f.join());
            } catch (CompletionException e) {
                failure = failure != null ? failure
                        : e.getCause() instanceof RuntimeException r ? r : new DeviceException(String.valueOf(e.getCause()));
            }
        }
        if (failure != null) {
            for (BlkifRing r : opened) {
                r.stop();                          // a re-attached ring's worker serves it since its bind
                r.closeEventChannel();
                r.unmap();
            }
            throw failure;
        }
        return opened;
    }

    /** A queue's opening, on its worker's thread (a class, not a lambda: linked ahead with the bundle's classes). */
    private final class QueueOpening implements BlkifRing.Worker.Opening {
        private final FrontendRings fe;
        private final int q;
        private final String strategy;
        private final PreparedRing prepared;
        private final BlkifRing.Worker worker;
        private final boolean live;

        QueueOpening(FrontendRings fe, int q, String strategy, PreparedRing prepared, BlkifRing.Worker worker, boolean live) {
            this.fe = fe;
            this.q = q;
            this.strategy = strategy;
            this.prepared = prepared;
            this.worker = worker;
            this.live = live;
        }

        @Override
        public BlkifRing open() {
            try {
                return openRing(fe, q, strategy, live ? worker : null, prepared);
            } finally {
                worker.cancel();                   // ends it if the ring was not handed to it; nothing once it was
            }
        }
    }

    /**
     * @param strategy the strategy to prefer (an adopter's record), null for the fittest
     * @param worker   a re-attached ring's worker, on whose thread this runs (null: a ring newly
     *                 connected, started by the caller)
     * @param prepared the ring as a standby prepared it with {@code strategy} (null: nothing),
     *                 brought up to date with the grant record now here, then opened, or closed
     */
    private BlkifRing openRing(FrontendRings fe, int q, String strategy, BlkifRing.Worker worker, PreparedRing prepared) {
        try {
            return openRing(fe, q, strategy, worker, prepared, context.stateDirectory().map(d -> grantRecord(d, q)).orElse(null));
        } finally {
            if (prepared != null) {
                prepared.close();                  // nothing after the strategy took it over; all of it on a failure before
            }
        }
    }

    /** @param worker a re-attached ring's worker (null: a ring newly connected, started by the caller) */
    private BlkifRing openRing(FrontendRings fe, int q, String strategy, BlkifRing.Worker worker, PreparedRing prepared, Path grants) {
        boolean live = worker != null;
        FrontendRings.Queue queue = fe.queues().get(q);
        RingRequest request = ringRequest(context, fe, features, q);
        RingChannel channel;
        OpeningSteps.SchedTimes atBegin = live ? OpeningSteps.SchedTimes.ofThisThread() : null;
        long begin = System.nanoTime();
        long refreshed = begin;
        try {
            if (strategy != null && strategies.rank(request).contains(strategy)) {
                if (prepared != null) {
                    prepared.refresh(grants);       // the owner's record, moved here at the claim
                    refreshed = System.nanoTime();
                    channel = strategies.open(request, strategy, prepared);
                } else {
                    channel = strategies.open(request, strategy);
                }
            } else {
                if (strategy != null) {
                    context.log("queue " + q + ": ring strategy " + strategy + " is not registered now; the fittest serves the ring");
                }
                channel = strategies.open(request);
            }
        } catch (RingException e) {
            throw new DeviceException("mapping ring-ref port " + queue.eventChannel() + ": " + e.getMessage(), e);
        }
        long opened = System.nanoTime();
        String name = queueName(q);
        BlkifRing ring;
        try {
            // Only the mirror of a ring's requests outlives a crash: the ring's own slots get the responses.
            Path mirror = context.stateDirectory().map(d -> RequestMirror.file(d, "queue-" + q)).orElse(null);
            ring = new BlkifRing(name, context, request, channel, image, features, worker, mirror, grants);
        } catch (RuntimeException e) {
            channel.close();
            throw new DeviceException("ring of " + name + " is unusable: " + e.getMessage(), e);
        }
        long made = System.nanoTime();
        OpeningSteps.SchedTimes atMade = live ? OpeningSteps.SchedTimes.ofThisThread() : null;
        try {
            ring.bound(eventChannels.bindInterdomainAwaited(context.id().frontendDomid(), queue.eventChannel()));
        } catch (RuntimeException e) {
            channel.close(); // whatever refused the port, the ring's mapping must not outlive it
            throw new DeviceException("mapping ring-ref port " + queue.eventChannel() + ": binding the event channel failed: "
                    + e.getMessage(), e);
        }
        if (live) {
            // The adoption's steps, said with the ring's first answer (where the guest's pause goes).
            long bound = System.nanoTime();
            ring.openedIn(new OpeningSteps(begin, refreshed, opened, made, bound, prepared != null, atBegin, atMade,
                    OpeningSteps.SchedTimes.ofThisThread()));
            // A re-attached ring is served from its bind on (by this thread, its worker's, once the
            // opening returns), not once every queue's is: a bind can take a second under
            // emulation. One event first: the old backend may have published responses and gone
            // before notifying.
            ring.notifyFrontend();
            worker.serve(ring);
        }
        return ring;
    }

    /** A queue's ring's name in the log and in its worker thread's name ({@code queue 0}). */
    private static String queueName(int q) {
        return "queue " + q;
    }

    /** Where queue {@code q}'s strategy records the grants it holds, beside its request mirror ({@code queue-0.grants}). */
    static Path grantRecord(Path dir, int q) {
        return dir.resolve("queue-" + q + ".grants");
    }

    /** What queue {@code q}'s ring asks of the strategies. */
    private static RingRequest ringRequest(BackendContext context, FrontendRings fe, VbdFeatures features, int q) {
        Map<String, String> negotiated = new LinkedHashMap<>();
        negotiated.put(BlkifKeys.PROTOCOL, fe.protocol());
        negotiated.put(XenbusKeys.RING_PAGE_ORDER, Integer.toString(Math.max(0, fe.ringPageOrder())));
        negotiated.put(VbdFeatures.PERSISTENT, fe.persistent() ? "1" : "0");
        negotiated.put(BlkifKeys.FEATURE_MAX_INDIRECT_SEGMENTS, Integer.toString(features.maxIndirectSegments()));
        negotiated.putAll(fe.shape().features());
        // A frontend's request for batched unmaps goes to the strategies as written; the one that serves it checks it.
        fe.unmapBatch().ifPresent(v -> negotiated.put(XenbusKeys.REQUEST_UNMAP_BATCH, v));
        return new RingRequest(context.id().frontendDomid(), BlkifConstants.PROTOCOL, BlkifRequestDescriptor.LENGTH,
                BlkifResponseDescriptor.LENGTH, fe.queues().get(q).ringRefs(), negotiated);
    }

    /** xenbus.c connect(): what the frontend reads once the backend is Connected, in one transaction. */
    private void writeConnectKeys(FrontendRings fe) {
        String be = context.id().backendPath();
        context.xenstore().transaction(tx -> {
            tx.write(be + "/" + BlkifKeys.FEATURE_FLUSH_CACHE, features.flushCache() ? "1" : "0");
            if (features.discard()) {
                tx.write(be + "/" + BlkifKeys.FEATURE_DISCARD, "1");
                tx.write(be + "/" + BlkifKeys.DISCARD_GRANULARITY, Integer.toString(VbdImage.DISCARD_GRANULARITY));
                tx.write(be + "/" + BlkifKeys.DISCARD_ALIGNMENT, "0");
                tx.write(be + "/" + BlkifKeys.DISCARD_SECURE, features.discardSecure() ? "1" : "0");
            } else {
                tx.write(be + "/" + BlkifKeys.FEATURE_DISCARD, "0");
            }
            tx.write(be + "/" + BlkifKeys.FEATURE_BARRIER, features.barrier() ? "1" : "0");
            tx.write(be + "/" + VbdFeatures.PERSISTENT, features.persistent() ? "1" : "0");
            tx.write(be + "/" + BlkifKeys.SECTORS, Long.toString(image.sectors()));
            tx.write(be + "/" + BlkifKeys.INFO, Integer.toString(info));
            tx.write(be + "/" + BlkifKeys.SECTOR_SIZE, Integer.toString(VbdImage.SECTOR_SIZE));
            tx.write(be + "/" + BlkifKeys.PHYSICAL_SECTOR_SIZE, Integer.toString(VbdImage.SECTOR_SIZE));
            return null;
        });
    }

    /** Answered and published, ports closed; the unmapping (persistent grants: the slow part) comes after the release. */
    @Override
    public synchronized Runnable handOver() {
        List<BlkifRing> mapped = stopRings();
        return () -> {
            mapped.forEach(BlkifRing::unmap);
            if (!mapped.isEmpty()) {
                context.log("handed over: " + mapped.size() + (mapped.size() == 1 ? " ring" : " rings") + " unmapped");
            }
        };
    }

    @Override
    public synchronized void disconnect() {
        List<BlkifRing> closed = stopRings();
        closed.forEach(BlkifRing::unmap);
        if (!closed.isEmpty()) {
            context.log("disconnected: " + closed.size() + (closed.size() == 1 ? " ring" : " rings") + " closed");
        }
    }

    /** Every request taken answered and published, the event channels closed; returns the rings, still mapped. */
    private List<BlkifRing> stopRings() {
        live = List.of();
        frontend = null;
        rings.forEach(BlkifRing::stopTaking);
        for (BlkifRing r : rings) {
            r.stop();
        }
        for (BlkifRing r : rings) {
            r.closeEventChannel();
        }
        List<BlkifRing> stopped = List.copyOf(rings);
        rings.clear();
        return stopped;
    }

    @Override
    public synchronized List<StrategySwap> swapStrategy(String strategy) {
        if (rings.isEmpty()) {
            throw new DeviceException("not connected: no ring to swap");
        }
        for (BlkifRing r : rings) {
            RingRequest request = r.ringRequest();
            List<String> fitting = strategies.rank(request);
            if (fitting.isEmpty() || (strategy != null && !fitting.contains(strategy))) {
                throw new DeviceException(RingHandover.unfit(strategy, "queue " + rings.indexOf(r), request, fitting));
            }
        }
        List<StrategySwap> done = new ArrayList<>();
        for (BlkifRing r : rings) {
            try {
                done.add(r.swap(strategies, strategy));
            } catch (RuntimeException e) {
                throw new DeviceException(RingHandover.failed(done.stream().map(StrategySwap::describe).toList(), "queue " + rings.indexOf(r), e), e);
            }
        }
        done.forEach(d -> context.log("strategy swap: " + d.describe()));
        return done;
    }

    @Override
    public List<RingRequest> ringRequests() {
        return live.stream().map(BlkifRing::ringRequest).toList();
    }

    @Override
    public synchronized void remove() {
        disconnect();
        if (!removed) {
            removed = true;
            image.close();
        }
    }

    @Override
    public Map<String, String> status() {
        List<BlkifRing> now = live;
        FrontendRings fe = frontend;
        Map<String, String> s = new LinkedHashMap<>();
        if (fe != null && !now.isEmpty()) {
            s.put(STATUS_STRATEGY, now.get(0).strategy());
            s.put(STATUS_QUEUES, Integer.toString(now.size()));
            s.put(STATUS_RING_ORDER, Integer.toString(Math.max(0, fe.ringPageOrder())));
            s.put(STATUS_FEATURES, features(fe));
        }
        s.put("image", image.path().toString());
        s.put("mode", image.readonly() ? "r" : "w");
        s.put("sectors", Long.toString(image.sectors()));
        for (int q = 0; q < now.size(); q++) {
            int queue = q;
            now.get(q).status().forEach((k, v) -> s.put("queue-" + queue + "/" + k, v));
        }
        return s;
    }

    /** The negotiated features in short form, as pv:devices lists them. */
    private String features(FrontendRings fe) {
        VbdFeatures features = this.features;
        List<String> f = new ArrayList<>();
        if (fe.persistent()) {
            f.add("persistent");
        }
        if (features.flushCache()) {
            f.add("flush");
        }
        if (features.barrier()) {
            f.add("barrier");
        }
        if (features.discard()) {
            f.add("discard");
        }
        if (features.maxIndirectSegments() > 0) {
            f.add("indirect:" + features.maxIndirectSegments());
        }
        if (image.readonly()) {
            f.add("ro");
        }
        return String.join(" ", f);
    }

    /** The vbd's {@code info} key: VDISK_* bits from the toolstack's keys and the access mode. */
    static int info(boolean readonly, boolean cdrom, boolean removable) {
        return (cdrom ? BlkifConstants.VDISK_CDROM : 0) | (removable ? BlkifConstants.VDISK_REMOVABLE : 0)
                | (readonly ? BlkifConstants.VDISK_READONLY : 0);
    }
}
