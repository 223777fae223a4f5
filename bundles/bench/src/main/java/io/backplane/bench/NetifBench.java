package io.backplane.bench;

import io.backplane.api.backend.NetifKeys;
import io.backplane.api.backend.XenbusKeys;
import io.backplane.api.backend.XenbusState;
import io.backplane.api.device.DeviceId;
import io.backplane.api.device.Negotiation;
import io.backplane.api.device.NegotiationPolicy;
import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.log.OperatorLog;
import io.backplane.api.ring.RingStrategy;
import io.backplane.api.xenstore.XsPerm;
import io.backplane.backend.BackendBus;
import io.backplane.backend.RingStrategyRegistry;
import io.backplane.hypervisor.sim.SimHypervisor;
import io.backplane.nativeio.NativeIo;
import io.backplane.netback.NetbackDriver;
import io.backplane.ring.grantcopy.GrantCopyStrategy;
import io.backplane.xenstore.client.EmbeddedXenStore;
import io.backplane.xenstore.store.Quotas;
import io.backplane.xenstore.store.Store;
import io.backplane.xenstore.wire.XenStoreDaemon;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code bench netif}: multi-page netif rings. netback (grant copy, the runtime's xenbus core) in
 * this JVM serves a vif of a sim guest whose netfront is netback's C program (netfront_pages.c:
 * ring.h and netif.h macros, sleeping on its event channel when it cannot go on, as a driver
 * does). For each ring size the guest sends the same frames (60 to 1514 bytes) into a sink that
 * only counts them; rows alternate per run so load hits every size alike. Reports frames per
 * second and, per frame, the notifications the frontend sent and the times it slept waiting for
 * the backend (each ended by one backend notification).
 */
final class NetifBench implements Bench.Benchmark {
    private static final Pattern DONE = Pattern.compile("TX DONE (\\d+) notifications (\\d+) waits (\\d+) ns (\\d+)");
    private static final String SOURCES = "/io/backplane/netback/c/";

    @Override
    public String description() {
        return "multi-page netif rings, notification-driven: a C netfront against netback in the sim, "
                + "frames/s and notifications per frame at 1, 2 and 4 pages [--frames N] [--runs N] [--pages 1,2,4] "
                + "[--mirror: each size also with the request mirror a restart needs, as a ratio to without]";
    }

    @Override
    public void run(List<String> args, PrintStream out) throws Exception {
        int frames = Integer.parseInt(Options.option(args, "--frames", "1000000"));
        int runs = Integer.parseInt(Options.option(args, "--runs", "5"));
        int[] sizes = Options.intList(args, "--pages", "1,2,4");
        boolean mirror = args.contains("--mirror");
        for (int p : sizes) {
            if (Integer.bitCount(p) != 1 || p > 16) {
                throw new IllegalArgumentException("--pages takes powers of two up to 16, not " + p);
            }
        }
        if (frames <= 0 || runs <= 0) {
            throw new IllegalArgumentException("--frames and --runs must be positive");
        }
        Path dir = Files.createTempDirectory("backplane-bench-netif");
        try {
            Path binary = build(dir);
            measure(dir, binary, frames, runs, sizes, mirror, out);
        } finally {
            Options.deleteTree(dir);
        }
    }

    static Path build(Path dir) throws Exception {
        if (!Files.exists(Path.of("/usr/include/xenstore.h"))) {
            throw new BenchUnavailable("libxenstore's header is missing: install it with `apt-get install libxen-dev`");
        }
        return new RingPeers(dir).build(SOURCES, "netfront_pages", "xenstore");
    }

    /**
     * @param mirror each ring size twice, without and with the request mirror (docs/backends.md,
     *               "Restart and re-attach"): the rows with it are given as a ratio to those without
     */
    private void measure(Path dir, Path binary, int frames, int runs, int[] sizes, boolean mirror, PrintStream out) throws Exception {
        int[] pages = mirror ? java.util.Arrays.stream(sizes).flatMap(p -> java.util.stream.IntStream.of(p, p)).toArray() : sizes;
        Path[] mirrors = new Path[pages.length];
        for (int i = 1; mirror && i < pages.length; i += 2) {
            mirrors[i] = dir;
        }
        Store store = new Store(Quotas.XEN_4_17);
        Map<DeviceId, Map<String, String>> offers = new ConcurrentHashMap<>();
        try (XenStoreDaemon daemon = new XenStoreDaemon(store, dir, OperatorLog.stderrWarnings("xenstored"))) {
            daemon.start();
            EmbeddedXenStore xs = new EmbeddedXenStore(store);
            SimHypervisor sim = SimHypervisor.start(dir, new NativeIo(), xs, -1);
            try {
                RingStrategyRegistry rings = new RingStrategyRegistry();
                rings.addStrategy(new GrantCopyStrategy(sim), Map.of(RingStrategy.NAME, GrantCopyStrategy.NAME,
                        "service.ranking", -100, "service.id", 1L));
                NetbackDriver netback = new NetbackDriver(rings, sim, r -> new CountingSink(r.name()),
                        NetbackDriver.Settings.defaults());
                BackendBus bus = new BackendBus(xs, fixedOffers(xs, offers), OperatorLog.lines(line -> { }),
                        new BackendBus.Options(0, true));
                bus.addDriver(netback);
                try {
                    out.printf("machine: %s%n", MachineInfo.describe());
                    out.printf("%d frames of 60..1514 bytes per cell, 1 queue, grant copy; median of %d alternating runs "
                            + "after a warm-up%n", frames, runs);
                    double[][] rate = new double[pages.length][runs];
                    double[][] notify = new double[pages.length][runs];
                    double[][] waits = new double[pages.length][runs];
                    one(sim, xs, bus, offers, dir, binary, Math.min(frames, 50_000), pages[0], null, -1);
                    for (int r = 0; r < runs; r++) {
                        for (int i = 0; i < pages.length; i++) {
                            double[] m = one(sim, xs, bus, offers, dir, binary, frames, pages[i], mirrors[i], r);
                            rate[i][r] = m[0];
                            notify[i][r] = m[1];
                            waits[i][r] = m[2];
                        }
                    }
                    out.println();
                    out.println("| ring pages |" + (mirror ? " request mirror | vs without |" : "") + " slots | frames/s | vs "
                            + pages[0] + (pages[0] == 1 ? " page" : " pages")
                            + " | frontend notifications / frame | frontend sleeps (backend notifications) / frame |");
                    out.println("|---|" + (mirror ? "---|---|" : "") + "---|---|---|---|---|");
                    for (int i = 0; i < pages.length; i++) {
                        String versus = !mirror ? "" : mirrors[i] == null ? " no | 1.00 |"
                                : String.format(" yes | %.3f |", Options.medianRatio(rate[i], rate[i - 1]));
                        out.printf("| %d |%s %d | %.0f | %.2f | %.4f | %.4f |%n", pages[i], versus, 256 * pages[i],
                                Options.median(rate[i]), Options.medianRatio(rate[i], rate[0]),
                                Options.median(notify[i]), Options.median(waits[i]));
                    }
                } finally {
                    bus.close();
                }
            } finally {
                sim.close();
            }
        }
    }

    /** One guest sending {@code frames} on rings of {@code pages}: frames/s, notifications and sleeps per frame. */
    private static double[] one(SimHypervisor sim, EmbeddedXenStore xs, BackendBus bus, Map<DeviceId, Map<String, String>> offers,
                                Path dir, Path binary, int frames, int pages, Path mirrors, int run) throws Exception {
        int order = Integer.numberOfTrailingZeros(pages);
        // The state directory is what makes netback mirror the requests it takes (null: no mirror).
        bus.options(new BackendBus.Options(0, true, false, mirrors));
        int domid = sim.create(DomainConfig.ofMiB("netif-" + pages + "p-" + run, 32)).domid();
        DeviceId id = new DeviceId(0, "vif", domid, 0);
        offers.put(id, Map.of(XenbusKeys.MULTI_QUEUE_MAX_QUEUES, "1", NetifKeys.FEATURE_RX_COPY, "1",
                XenbusKeys.MAX_RING_PAGE_ORDER, Integer.toString(order)));
        addVif(xs, id);
        Path log = dir.resolve("guest-" + domid + ".log");
        Process c = new ProcessBuilder(binary.toString(), dir.toString(), Integer.toString(domid), Integer.toString(order),
                Integer.toString(frames), "0").redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            if (!c.waitFor(300, TimeUnit.SECONDS) || c.exitValue() != 0) {
                throw new IOException("the C netfront failed: " + Files.readString(log));
            }
            Matcher m = DONE.matcher(Files.readString(log));
            if (!m.find() || !Files.readString(log).contains("with " + pages + "-page rings")) {
                throw new IOException("the C netfront did not report its run on " + pages + "-page rings: " + Files.readString(log));
            }
            double n = Double.parseDouble(m.group(1));
            return new double[] {n * 1e9 / Double.parseDouble(m.group(4)), Double.parseDouble(m.group(2)) / n,
                    Double.parseDouble(m.group(3)) / n};
        } finally {
            c.destroyForcibly();
            // As xl destroy: the backend directory goes, the core closes the vif, then the domain.
            xs.rm(id.backendPath());
            for (int i = 0; i < 500 && bus.device(id).isPresent(); i++) {
                Thread.sleep(10);
            }
            sim.destroy(domid);
            offers.remove(id);
        }
    }

    /** libxl's vif layout, as in netback's tests (SimNet). */
    static void addVif(EmbeddedXenStore xs, DeviceId id) {
        int domid = id.frontendDomid();
        String be = id.backendPath();
        String fe = id.frontendPath();
        xs.transaction(tx -> {
            tx.mkdir(be);
            tx.setPerms(be, List.of(XsPerm.none(0), XsPerm.read(domid)));
            tx.mkdir("/local/domain/" + domid + "/device/vif");
            tx.setPerms("/local/domain/" + domid + "/device", List.of(XsPerm.none(0), XsPerm.read(domid)));
            tx.setPerms("/local/domain/" + domid + "/device/vif", List.of(XsPerm.none(0), XsPerm.read(domid)));
            tx.mkdir(fe);
            tx.setPerms(fe, List.of(XsPerm.none(domid), XsPerm.read(0)));
            tx.write(be + "/" + XenbusKeys.FRONTEND, fe);
            tx.write(be + "/" + XenbusKeys.FRONTEND_ID, Integer.toString(domid));
            tx.write(be + "/" + XenbusKeys.ONLINE, "1");
            tx.write(be + "/" + XenbusKeys.STATE, XenbusState.INITIALISING.wire());
            tx.write(be + "/" + NetifKeys.MAC, "00:16:3e:40:00:01");
            tx.write(be + "/" + XenbusKeys.HANDLE, "0");
            tx.write(be + "/type", "vif");
            tx.write(be + "/" + XenbusKeys.HOTPLUG_STATUS, "");
            tx.write(fe + "/" + XenbusKeys.BACKEND, be);
            tx.write(fe + "/" + XenbusKeys.BACKEND_ID, "0");
            tx.write(fe + "/" + XenbusKeys.STATE, XenbusState.INITIALISING.wire());
            tx.write(fe + "/" + XenbusKeys.HANDLE, "0");
            tx.write(fe + "/" + NetifKeys.MAC, "00:16:3e:40:00:01");
            return null;
        });
    }

    /** The negotiation policy's part, reduced to publishing a fixed offer per device. */
    static NegotiationPolicy fixedOffers(EmbeddedXenStore xs, Map<DeviceId, Map<String, String>> offers) {
        return new NegotiationPolicy() {
            @Override
            public Negotiation negotiate(DeviceId device) {
                Negotiation n = preview(device);
                xs.transaction(tx -> {
                    n.offer().forEach((k, v) -> tx.write(device.backendPath() + "/" + k, v));
                    return null;
                });
                return n;
            }

            @Override
            public Negotiation preview(DeviceId device) {
                return new Negotiation(device, offers.getOrDefault(device, Map.of()), List.of(), Set.of(), false);
            }
        };
    }

    /** A host end that takes every frame and keeps none (the frontend's pace is what is measured). */
    private static final class CountingSink extends TxOnlySink {
        private final String name;

        CountingSink(String name) {
            this.name = name;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public String describe() {
            return "counting sink " + name;
        }

        @Override
        public void transmit(ByteBuffer frame) {
        }
    }
}
