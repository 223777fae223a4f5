package io.backplane.bench;

import io.backplane.api.backend.NetifKeys;
import io.backplane.api.backend.XenbusKeys;
import io.backplane.api.device.DeviceId;
import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.hypervisor.GrantTables;
import io.backplane.api.log.OperatorLog;
import io.backplane.api.ring.RingChannel;
import io.backplane.api.ring.RingRequest;
import io.backplane.api.ring.RingStrategies;
import io.backplane.api.ring.RingStrategy;
import io.backplane.api.ring.SegmentCopy;
import io.backplane.api.ring.SegmentIo;
import io.backplane.backend.BackendBus;
import io.backplane.backend.RingStrategyRegistry;
import io.backplane.guest.grantpool.GrantPoolMain;
import io.backplane.guest.grantpool.GrantPoolSim;
import io.backplane.hypervisor.sim.SimHypervisor;
import io.backplane.nativeio.IoVector;
import io.backplane.nativeio.NativeIo;
import io.backplane.nativeio.Posix;
import io.backplane.netback.NetbackDriver;
import io.backplane.netback.sink.SinkFactory;
import io.backplane.ring.grantcopy.GrantCopyStrategy;
import io.backplane.ring.map.MapBatchedUnmapStrategy;
import io.backplane.ring.persistent.PersistentLimits;
import io.backplane.ring.persistent.PersistentStrategy;
import io.backplane.ring.wholememory.WholeMemoryStrategy;
import io.backplane.ring.zerocopy.ZeroCopyStrategy;
import io.backplane.xenstore.client.EmbeddedXenStore;
import io.backplane.xenstore.store.Quotas;
import io.backplane.xenstore.store.Store;
import io.backplane.xenstore.wire.XenStoreDaemon;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code bench strategies}: every ring strategy side by side in one run, as ratios to legacy grant
 * copy measured in the same run.
 *
 * <ul>
 * <li>netif TX, notification-driven and busy-polling (netback's busy-poll setting and the C
 *     netfront's POLL: both spin on the rings, as bench ring's peers do without FIFOs; rows
 *     "... busy-poll", each against grant copy busy-polling in the same run): netback (the
 *     runtime's xenbus core) in this JVM serves a vif
 *     of a sim guest whose netfront is netback's C program ({@code netfront_pages.c}, reusing one
 *     granted page per slot and writing {@code feature-persistent=1}, so every strategy serves the
 *     same frontend); 64-byte, 1500-byte and 65535-byte TCP GSO frames into an in-memory sink that
 *     takes one copy of each frame, as a host stack would, and checks every 64th byte for byte; and
 *     1500-byte and GSO frames into a real TAP device where one can be created.</li>
 * <li>blkif: a guest process grants a pool of pages; per request the strategy's data path and the
 *     image I/O exactly as blkback does them (pages lent: one pwritev/preadv; else grant copy
 *     through a bounce buffer and pwrite/pread), 4 KiB and 64 KiB, writes and reads, into an image
 *     file; and one core's memcpy of 64 KiB blocks over a buffer of the image's size.</li>
 * </ul>
 * The whole-memory strategy serves these guests because its policy names them ("bench-guest",
 * "grant-pool"). Writes {@code strategies.csv} and {@code strategies.png} (JFreeChart) into {@code --out}.
 */
final class StrategiesBench implements Bench.Benchmark {
    private static final Pattern DONE = Pattern.compile(
            "TX DONE (\\d+) notifications (\\d+) waits (\\d+) ns (\\d+) cpu (\\d+)");
    static final String GRANT_COPY = GrantCopyStrategy.NAME;
    static final List<String> STRATEGIES = List.of(GRANT_COPY, MapBatchedUnmapStrategy.NAME, PersistentStrategy.NAME,
            ZeroCopyStrategy.NAME, WholeMemoryStrategy.NAME);
    /** The guests' names: the whole-memory policy names them, as an operator must. */
    private static final String NETIF_GUEST = "bench-guest";
    private static final String BLKIF_GUEST = "grant-pool";
    static final int[] FRAME_SIZES = {64, 1500, 65535};
    static final int[] BLOCK_SIZES = {4096, 65536};
    private static final long IMAGE_BYTES = 64L << 20;

    @Override
    public String description() {
        return "every ring strategy against grant copy in one run: netif TX 64 B / 1500 B / 64 KiB GSO frames from a "
                + "C netfront, notification-driven and busy-polling, blkif 4 KiB / 64 KiB into an image file, one core's "
                + "memcpy; CSV and PNG chart [--frames N] [--runs N] [--seconds S] [--modes notify,poll] [--out DIR]";
    }

    /** One measured cell: rate in its unit, and per request the notifications and CPU time. */
    record Cell(String workload, String strategy, double rate, String unit, double bytesPerOp,
                double frontNotify, double backNotify, double backendCpuUs, double guestCpuUs) {
    }

    @Override
    public void run(List<String> args, PrintStream out) throws Exception {
        int frames = Integer.parseInt(Options.option(args, "--frames", "500000"));
        int runs = Integer.parseInt(Options.option(args, "--runs", "3"));
        double seconds = Double.parseDouble(Options.option(args, "--seconds", "1"));
        Path outDir = Path.of(Options.option(args, "--out", "docs"));
        List<String> modes = List.of(Options.option(args, "--modes", "notify,poll").split(","));
        if (!List.of("poll", "notify").containsAll(modes)) {
            throw new IllegalArgumentException("--modes takes notify and/or poll, not " + modes);
        }
        if (frames <= 0 || runs <= 0 || seconds <= 0) {
            throw new IllegalArgumentException("--frames, --runs and --seconds must be positive");
        }
        Files.createDirectories(outDir);
        // Guest memory in RAM (tmpfs), as a runtime's state directory is; the image on a real file system.
        Path shm = Path.of("/dev/shm");
        Path dir = Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "backplane-bench-strategies")
                : Files.createTempDirectory("backplane-bench-strategies");
        Path imageDir = Files.createTempDirectory("backplane-bench-image");
        try {
            out.printf("machine: %s%n", MachineInfo.describe());
            out.printf("each cell: median of %d runs, the strategies of a run back to back; ratios: median of each run's "
                    + "ratio to grant copy in that run%n", runs);
            Map<String, List<Cell>> cells = new LinkedHashMap<>();
            netif(dir, frames, runs, modes, cells, out);
            blkif(dir, imageDir.resolve("image.raw"), seconds, runs, cells, out);
            List<StrategiesReport.Row> rows = StrategiesReport.rows(cells);
            StrategiesReport.print(rows, cells, out);
            StrategiesReport.writeCsv(rows, outDir.resolve("strategies.csv"));
            StrategiesReport.chart(rows, outDir.resolve("strategies.png"));
            out.printf("%nwrote %s and %s%n", outDir.resolve("strategies.csv"), outDir.resolve("strategies.png"));
        } finally {
            Options.deleteTree(dir);
            Options.deleteTree(imageDir);
        }
    }

    // ---------------------------------------------------------------- netif

    private void netif(Path dir, int frames, int runs, List<String> modes, Map<String, List<Cell>> cells, PrintStream out)
            throws Exception {
        Path binary = NetifBench.build(dir);
        Store store = new Store(Quotas.XEN_4_17);
        Map<DeviceId, Map<String, String>> offers = new ConcurrentHashMap<>();
        try (XenStoreDaemon daemon = new XenStoreDaemon(store, dir, OperatorLog.stderrWarnings("xenstored"))) {
            daemon.start();
            EmbeddedXenStore xs = new EmbeddedXenStore(store);
            SimHypervisor sim = SimHypervisor.start(dir, new NativeIo(), xs, -1);
            try {
                Chosen rings = new Chosen(registry(sim, sim));
                VerifyingSink sink = new VerifyingSink();
                // A real TAP device where this process may create one (root, /dev/net/tun).
                SinkFactory tap = "root".equals(System.getProperty("user.name")) && Files.exists(Path.of("/dev/net/tun"))
                        ? new SinkFactory(new NativeIo(), "tap", false, OperatorLog.lines(line -> { })) : null;
                boolean[] toTap = {false};
                for (String mode : modes) {
                    boolean poll = mode.equals("poll");
                    NetbackDriver.Settings settings = poll ? NetbackDriver.Settings.defaults().busyPolling()
                            : NetbackDriver.Settings.defaults();
                    NetbackDriver netback = new NetbackDriver(rings, sim, r -> toTap[0] ? tap.open(r) : sink, settings);
                    BackendBus bus = new BackendBus(xs, NetifBench.fixedOffers(xs, offers), OperatorLog.lines(line -> { }),
                            new BackendBus.Options(0, true));
                    bus.addDriver(netback);
                    try {
                        // Warm-up: JIT, every strategy's path once.
                        for (String s : STRATEGIES) {
                            rings.name = s;
                            netifCell(sim, xs, bus, offers, dir, binary, sink, 1500, Math.min(frames, 20_000), poll);
                        }
                        List<int[]> workloads = new ArrayList<>();
                        for (int size : FRAME_SIZES) {
                            workloads.add(new int[] {size, 0});
                        }
                        if (tap != null) {
                            workloads.add(new int[] {1500, 1});
                            workloads.add(new int[] {65535, 1});
                        } else {
                            out.println("  (no TAP rows: creating a TAP device needs root and /dev/net/tun)");
                        }
                        for (int r = 0; r < runs; r++) {
                            for (int[] w : workloads) {
                                int size = w[0];
                                toTap[0] = w[1] == 1;
                                int n = size > 4096 ? Math.max(1, frames / 10) : frames;
                                String workload = "netif TX " + (size > 4096 ? "64 KiB GSO" : size + " B") + (toTap[0] ? " to TAP" : "")
                                        + (poll ? " busy-poll" : "");
                                out.printf("  run %d/%d %s:", r + 1, runs, workload);
                                for (String s : STRATEGIES) {
                                    rings.name = s;
                                    Cell c = netifCell(sim, xs, bus, offers, dir, binary, sink, size, n, poll);
                                    cells.computeIfAbsent(workload + "|" + s, k -> new ArrayList<>())
                                            .add(new Cell(workload, s, c.rate, c.unit, c.bytesPerOp, c.frontNotify,
                                                    c.backNotify, c.backendCpuUs, c.guestCpuUs));
                                    out.printf(" [%s %.0f/s]", s, c.rate);
                                }
                                out.println();
                            }
                        }
                        toTap[0] = false;
                    } finally {
                        bus.close();
                    }
                }
                if (sink.bad.get() > 0) {
                    throw new IllegalStateException(sink.bad.get() + " of " + sink.checked.get()
                            + " checked frames arrived wrong: the benchmark measured a broken path");
                }
                out.printf("  netif: %d frames reached the sink, %d checked byte for byte, all intact; frames sent "
                        + "from the guest's pages in place: %d%n", sink.frames.get(), sink.checked.get(), sink.gathered.get());
            } finally {
                sim.close();
            }
        }
    }

    /**
     * One guest sending {@code frames} frames of {@code size} bytes on the chosen strategy;
     * {@code poll}: the C netfront and netback's worker busy-poll (netfront_pages.c's POLL,
     * netback's busy-poll setting: the mechanism of bench ring's peers without FIFOs), else both
     * sleep on the event channel.
     */
    private static Cell netifCell(SimHypervisor sim, EmbeddedXenStore xs, BackendBus bus,
                                  Map<DeviceId, Map<String, String>> offers, Path dir, Path binary, VerifyingSink sink,
                                  int size, int frames, boolean poll) throws Exception {
        int domid = sim.create(DomainConfig.ofMiB(NETIF_GUEST, 32)).domid();
        DeviceId id = new DeviceId(0, "vif", domid, 0);
        offers.put(id, Map.of(XenbusKeys.MULTI_QUEUE_MAX_QUEUES, "1", NetifKeys.FEATURE_RX_COPY, "1", NetifKeys.FEATURE_SG, "1",
                NetifKeys.FEATURE_GSO_TCPV4, "1", XenbusKeys.FEATURE_PERSISTENT, "1"));
        NetifBench.addVif(xs, id);
        sink.expect(size);
        Path log = dir.resolve("guest-" + domid + ".log");
        long cpu0 = processCpuNanos();
        Process c = new ProcessBuilder(binary.toString(), dir.toString(), Integer.toString(domid), "0",
                Integer.toString(frames), "0", Integer.toString(size), "1", "0", "", "0", poll ? "1" : "0")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            if (!c.waitFor(600, TimeUnit.SECONDS) || c.exitValue() != 0) {
                throw new IOException("the C netfront failed: " + Files.readString(log));
            }
            long cpu = processCpuNanos() - cpu0;
            Matcher m = DONE.matcher(Files.readString(log));
            if (!m.find()) {
                throw new IOException("the C netfront did not report its run: " + Files.readString(log));
            }
            double n = Double.parseDouble(m.group(1));
            double ns = Double.parseDouble(m.group(4));
            return new Cell("", "", n * 1e9 / ns, "frames/s", size, Double.parseDouble(m.group(2)) / n,
                    Double.parseDouble(m.group(3)) / n, cpu / n / 1e3, Double.parseDouble(m.group(5)) / n / 1e3);
        } finally {
            c.destroyForcibly();
            xs.rm(id.backendPath());
            for (int i = 0; i < 500 && bus.device(id).isPresent(); i++) {
                Thread.sleep(10);
            }
            sim.destroy(domid);
            offers.remove(id);
        }
    }

    /** Every strategy bundle's strategy, as the runtime registers them (zero-copy at its default ranking). */
    private static RingStrategyRegistry registry(GrantTables grants, SimHypervisor sim) {
        RingStrategyRegistry r = new RingStrategyRegistry();
        r.addStrategy(new GrantCopyStrategy(grants), Map.of(RingStrategy.NAME, GRANT_COPY, "service.ranking", -100,
                "service.id", 1L));
        r.addStrategy(new PersistentStrategy(grants, PersistentLimits.DEFAULTS), Map.of(RingStrategy.NAME,
                PersistentStrategy.NAME, "service.id", 2L));
        r.addStrategy(new MapBatchedUnmapStrategy(grants), Map.of(RingStrategy.NAME, MapBatchedUnmapStrategy.NAME,
                "service.ranking", -200, "service.id", 3L));
        r.addStrategy(new ZeroCopyStrategy(grants, 4096), Map.of(RingStrategy.NAME, ZeroCopyStrategy.NAME,
                "service.ranking", -10, "service.id", 4L));
        r.addStrategy(new WholeMemoryStrategy(grants, sim, sim, NETIF_GUEST, BLKIF_GUEST), Map.of(RingStrategy.NAME,
                WholeMemoryStrategy.NAME, "service.id", 5L));
        return r;
    }

    /** The registry with the operator's choice ({@code pv:strategy}) made for every ring opened. */
    private static final class Chosen implements RingStrategies {
        private final RingStrategies registry;
        volatile String name;

        Chosen(RingStrategies registry) {
            this.registry = registry;
        }

        @Override
        public RingChannel open(RingRequest request) {
            return registry.open(request, name);
        }

        @Override
        public RingChannel open(RingRequest request, String strategy) {
            return registry.open(request, strategy);
        }

        @Override
        public List<String> rank(RingRequest request) {
            return List.of(name);
        }
    }

    /**
     * The host end: takes one copy of each frame into its own buffer, as a host stack's skb does,
     * and checks every 64th frame byte for byte against netfront_pages.c's pattern.
     */
    private static final class VerifyingSink extends TxOnlySink {
        private static final int HDR = 10;
        private final byte[] copy = new byte[HDR + 65536];
        final AtomicLong frames = new AtomicLong();
        final AtomicLong checked = new AtomicLong();
        final AtomicLong bad = new AtomicLong();
        final AtomicLong gathered = new AtomicLong();
        private volatile int size;

        void expect(int frameSize) {
            size = frameSize;
        }

        @Override
        public String name() {
            return "bench";
        }

        @Override
        public String describe() {
            return "in-memory verifying sink";
        }

        @Override
        public void transmit(ByteBuffer frame) {
            int n = frame.remaining();
            frame.get(frame.position(), copy, 0, n);
            took(n);
        }

        @Override
        public void transmit(ByteBuffer[] parts, int from, int count) {
            int at = 0;
            for (int i = from; i < from + count; i++) {
                int n = parts[i].remaining();
                parts[i].get(parts[i].position(), copy, at, n);
                at += n;
            }
            gathered.incrementAndGet();
            took(at);
        }

        private void took(int n) {
            if (frames.incrementAndGet() % 64 == 0) {
                checked.incrementAndGet();
                if (!intact(n - HDR)) {
                    bad.incrementAndGet();
                }
            }
        }

        /** netfront_pages.c's frames: seq at 14 (pattern frames) or in the TCP sequence (GSO), then seq * 31 + i. */
        private boolean intact(int length) {
            if (length != size) {
                return false;
            }
            boolean gso = length > 4096;
            int seqAt = HDR + (gso ? 38 : 14);
            int seq = (copy[seqAt] & 0xFF) << 24 | (copy[seqAt + 1] & 0xFF) << 16 | (copy[seqAt + 2] & 0xFF) << 8
                    | (copy[seqAt + 3] & 0xFF);
            for (int i = gso ? 54 : 20; i < length; i++) {
                if (copy[HDR + i] != (byte) (seq * 31 + i)) {
                    return false;
                }
            }
            return true;
        }
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    // ---------------------------------------------------------------- blkif

    private void blkif(Path dir, Path image, double seconds, int runs, Map<String, List<Cell>> cells, PrintStream out)
            throws Exception {
        NativeIo io = new NativeIo();
        int fd = io.open(image.toString(), Posix.O_RDWR | Posix.O_CREAT, 0600);
        try (GrantPoolSim world = GrantPoolSim.start(dir.resolve("blk"), 256)) {
            io.ftruncate(fd, IMAGE_BYTES);
            GrantTables sim = world.sim();
            RingRequest ring = new RingRequest(world.domid(), "blkif", 112, 16, new int[] {world.pool().ringRef()},
                    Map.of(PersistentStrategy.FEATURE, "1"));
            RingStrategyRegistry registry = registry(sim, world.sim());
            Map<String, RingChannel> channels = new LinkedHashMap<>();
            try {
                for (String s : STRATEGIES) {
                    channels.put(s, registry.open(ring, s));
                }
                int[] refs = world.pool().refs();
                ByteBuffer bounce = ByteBuffer.allocateDirect(65536);
                IoVector iov = new IoVector(io, 16);
                ByteBuffer memSrc = ByteBuffer.allocateDirect(65536);
                ByteBuffer memDst = ByteBuffer.allocateDirect((int) IMAGE_BYTES);
                for (int at = 0; at < memDst.capacity(); at += 4096) {
                    memDst.put(at, (byte) 1);              // fault every page in before anything is timed
                }
                for (long at = 0; at < IMAGE_BYTES; at += 65536) {
                    io.pwrite(fd, memSrc.clear(), at);     // the image allocated, not sparse
                }
                for (String s : STRATEGIES) { // warm-up
                    for (boolean write : new boolean[] {true, false}) {
                        blkCell(io, fd, channels.get(s).segments(), refs, bounce, iov, 65536, write, 0.3);
                    }
                }
                memcpy(memSrc, memDst, 0.3);
                for (int r = 0; r < runs; r++) {
                    for (int block : BLOCK_SIZES) {
                        for (boolean write : new boolean[] {true, false}) {
                            String workload = "blkif " + (write ? "write " : "read ") + (block / 1024) + " KiB";
                            out.printf("  run %d/%d %s:", r + 1, runs, workload);
                            for (String s : STRATEGIES) {
                                double[] m = blkCell(io, fd, channels.get(s).segments(), refs, bounce, iov, block, write, seconds);
                                cells.computeIfAbsent(workload + "|" + s, k -> new ArrayList<>()).add(new Cell(workload, s,
                                        m[0], "MB/s", block, Double.NaN, Double.NaN, m[1], Double.NaN));
                                out.printf(" [%s %.0f MB/s]", s, m[0]);
                            }
                            out.println();
                        }
                    }
                    double mb = memcpy(memSrc, memDst, seconds);
                    for (String s : STRATEGIES) {
                        // memcpy is one row; filed under every strategy's name so each run's ratio has its baseline.
                        cells.computeIfAbsent("memcpy 64 KiB (one core)|" + s, k -> new ArrayList<>()).add(new Cell(
                                "memcpy 64 KiB (one core)", s, mb, "MB/s", 65536, Double.NaN, Double.NaN, Double.NaN, Double.NaN));
                    }
                    out.printf("  run %d/%d memcpy 64 KiB: %.0f MB/s%n", r + 1, runs, mb);
                }
                out.printf("  blkif counters: zero-copy %s, whole-memory %s%n", channels.get(ZeroCopyStrategy.NAME).counters(),
                        channels.get(WholeMemoryStrategy.NAME).counters());
            } finally {
                channels.values().forEach(RingChannel::close);
            }
        } finally {
            io.close(fd);
        }
    }

    /**
     * Requests of {@code block} bytes for {@code seconds}, as BlkifRing serves them: lent pages
     * and one vectored call, else grant copy and a bounce buffer. Returns MB/s and CPU µs per
     * request (this thread); the last request is checked against the guest's pages.
     */
    private static double[] blkCell(NativeIo io, int fd, SegmentIo seg, int[] refs, ByteBuffer bounce, IoVector iov,
                                    int block, boolean write, double seconds) {
        int segments = block / 4096;
        List<SegmentCopy> batch = new ArrayList<>(segments);
        int[] status = new int[segments];
        var threads = ManagementFactory.getThreadMXBean();
        long cpu0 = threads.getCurrentThreadCpuTime();
        long end = System.nanoTime() + (long) (seconds * 1e9);
        long start = System.nanoTime();
        long requests = 0;
        int first = 0;
        long offset = 0;
        do {
            first = first + segments > refs.length ? 0 : first;
            offset = offset + block > IMAGE_BYTES ? 0 : offset;
            iov.clear();
            boolean lent = true;
            for (int i = 0; i < segments && lent; i++) {
                ByteBuffer page = seg.direct(refs[first + i], 0, 4096, !write);
                if (page == null) {
                    lent = false;
                } else {
                    iov.add(page);
                }
            }
            if (lent) {
                long n = write ? io.pwritev(fd, iov, offset) : io.preadv(fd, iov, offset);
                if (n != block) {
                    throw new IllegalStateException("short " + (write ? "pwritev" : "preadv") + ": " + n);
                }
            } else {
                batch.clear();
                if (!write) {
                    io.pread(fd, bounce.clear().limit(block), offset);
                }
                for (int i = 0; i < segments; i++) {
                    batch.add(write ? SegmentCopy.fromGuest(refs[first + i], 0, bounce, i * 4096, 4096)
                            : SegmentCopy.toGuest(bounce, i * 4096, refs[first + i], 0, 4096));
                }
                seg.copy(batch, status);
                for (int s : status) {
                    if (s != 0) {
                        throw new IllegalStateException("a segment failed with GNTST " + s);
                    }
                }
                if (write) {
                    io.pwrite(fd, bounce.clear().limit(block), offset);
                }
            }
            seg.flush();
            requests++;
            first += segments;
            offset += block;
        } while (System.nanoTime() < end);
        double elapsed = (System.nanoTime() - start) / 1e9;
        double cpuUs = (threads.getCurrentThreadCpuTime() - cpu0) / 1e3 / requests;
        if (write) {
            checkWritten(io, fd, refs, first - segments, segments, offset - block);
        }
        return new double[] {requests * (double) block / elapsed / 1e6, cpuUs};
    }

    /** The image at {@code offset} holds what the guest granted in {@code refs[first..]}. */
    private static void checkWritten(NativeIo io, int fd, int[] refs, int first, int segments, long offset) {
        ByteBuffer back = ByteBuffer.allocateDirect(segments * 4096);
        io.pread(fd, back, offset);
        for (int i = 0; i < segments; i++) {
            for (int off = 0; off < 4096; off += 61) {
                if (back.get(i * 4096 + off) != GrantPoolMain.pattern(refs[first + i], off)) {
                    throw new IllegalStateException("image byte " + (offset + i * 4096L + off)
                            + " is not what the guest wrote: the benchmark measured a broken path");
                }
            }
        }
    }

    /** One core's memcpy, 64 KiB at a time over a buffer the size of the image; MB/s. */
    private static double memcpy(ByteBuffer src, ByteBuffer dst, double seconds) {
        long end = System.nanoTime() + (long) (seconds * 1e9);
        long start = System.nanoTime();
        long bytes = 0;
        int at = 0;
        do {
            for (int i = 0; i < 64; i++) {
                at = at + 65536 > dst.capacity() ? 0 : at;
                dst.put(at, src, 0, 65536);
                at += 65536;
                bytes += 65536;
            }
        } while (System.nanoTime() < end);
        return bytes / ((System.nanoTime() - start) / 1e9) / 1e6;
    }
}
