package io.backplane.bench;

import io.backplane.api.hypervisor.GrantMapping;
import io.backplane.api.hypervisor.GrantTables;
import io.backplane.api.ring.RingChannel;
import io.backplane.api.ring.RingRequest;
import io.backplane.api.ring.SegmentCopy;
import io.backplane.api.ring.SegmentIo;
import io.backplane.guest.grantpool.GrantPoolMain;
import io.backplane.guest.grantpool.GrantPoolSim;
import io.backplane.ring.grantcopy.GrantCopyStrategy;
import io.backplane.ring.map.MapBatchedUnmapStrategy;
import io.backplane.ring.persistent.PersistentLimits;
import io.backplane.ring.persistent.PersistentStrategy;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code bench grants}: moving 4 KiB segments from a guest process's granted pages into dom0
 * buffers through the sim hypervisor, the ways a backend can: grant copy one segment per call
 * and 32 per call (the grant-copy strategy), a map and an unmap per segment, a map per segment
 * with the unmaps batched per 32 (the map-batched-unmap strategy), and persistent mappings (the
 * persistent strategy, every grant mapped once). The guest grants a pool of pages, as a
 * persistent-grant blkfront does, and dom0 cycles through it; every run's last batch is checked
 * byte for byte against what the guest wrote. Reports MB/s and the ratio to grant copy (batch 32).
 */
final class GrantsBench implements Bench.Benchmark {
    static final int BATCH = 32;
    static final int SEGMENT = 4096;

    @Override
    public String description() {
        return "4 KiB segments from a guest's grants into dom0 through the sim: grant copy, map+unmap, "
                + "batched unmap, persistent [--seconds N] [--runs N] [--pages N]";
    }

    /** One way of moving a batch of segments; returns nothing, fills local slot i with refs[first + i]. */
    private interface Method {
        void batch(int[] refs, int first, ByteBuffer local);
    }

    @Override
    public void run(List<String> args, PrintStream out) throws Exception {
        double seconds = Double.parseDouble(Options.option(args, "--seconds", "2"));
        int runs = Integer.parseInt(Options.option(args, "--runs", "5"));
        int pages = Integer.parseInt(Options.option(args, "--pages", "256"));
        if (seconds <= 0 || runs <= 0 || pages < BATCH) {
            throw new IllegalArgumentException("--seconds and --runs must be positive and --pages at least " + BATCH);
        }
        Path dir = Files.createTempDirectory("backplane-bench-grants");
        try (GrantPoolSim world = GrantPoolSim.start(dir, pages)) {
            out.printf("machine: %s%n", MachineInfo.describe());
            out.printf("guest domain %d: a separate process granting %d pages; each cell: median of %d alternating "
                    + "runs of %.1f s after a warm-up run%n", world.domid(), pages, runs, seconds);
            measure(world, seconds, runs, out);
        } finally {
            Options.deleteTree(dir);
        }
    }

    private void measure(GrantPoolSim world, double seconds, int runs, PrintStream out) {
        GrantTables sim = world.sim(); // not the recording view: the bench makes millions of calls
        int domid = world.domid();
        int[] refs = world.pool().refs();
        RingRequest ring = new RingRequest(domid, "blkif", 112, 16, new int[] {world.pool().ringRef()},
                Map.of(PersistentStrategy.FEATURE, "1"));
        try (RingChannel copy = new GrantCopyStrategy(sim).open(ring);
             RingChannel batched = new MapBatchedUnmapStrategy(sim).open(ring);
             RingChannel persistent = new PersistentStrategy(sim, PersistentLimits.DEFAULTS).open(ring)) {
            Map<String, Method> methods = new LinkedHashMap<>();
            SegmentIo copyIo = copy.segments();
            methods.put("grant copy, batch 1", (r, first, local) -> {
                for (int i = 0; i < BATCH; i++) {
                    check(copyIo.read(r[first + i], 0, local, i * SEGMENT, SEGMENT));
                }
            });
            int[] status = new int[BATCH];
            methods.put("grant copy, batch 32", (r, first, local) -> {
                List<SegmentCopy> ops = new ArrayList<>(BATCH);
                for (int i = 0; i < BATCH; i++) {
                    ops.add(SegmentCopy.fromGuest(r[first + i], 0, local, i * SEGMENT, SEGMENT));
                }
                copyIo.copy(ops, status);
                for (int s : status) {
                    check(s);
                }
            });
            methods.put("map + unmap per segment", (r, first, local) -> {
                for (int i = 0; i < BATCH; i++) {
                    try (GrantMapping m = sim.map(domid, new int[] {r[first + i]}, false)) {
                        local.put(i * SEGMENT, m.buffer(), 0, SEGMENT);
                    }
                }
            });
            methods.put("map, unmaps batched per 32", segmentsThenFlush(batched.segments()));
            methods.put("persistent grants", segmentsThenFlush(persistent.segments()));

            ByteBuffer local = ByteBuffer.allocateDirect(BATCH * SEGMENT);
            Map<String, double[]> rates = new LinkedHashMap<>();
            methods.keySet().forEach(name -> rates.put(name, new double[runs]));
            for (Map.Entry<String, Method> m : methods.entrySet()) {
                time(m.getValue(), refs, local, Math.min(seconds, 1.0)); // warm-up: JIT and first maps
            }
            for (int r = 0; r < runs; r++) {
                out.printf("  run %d/%d:", r + 1, runs);
                for (Map.Entry<String, Method> m : methods.entrySet()) {
                    double mbs = time(m.getValue(), refs, local, seconds);
                    rates.get(m.getKey())[r] = mbs;
                    out.printf(" [%s %.0f]", m.getKey(), mbs);
                }
                out.println(" MB/s");
            }
            double[] baseline = rates.get("grant copy, batch 32");
            out.println();
            out.println("| method | MB/s | vs grant copy (batch 32) |");
            out.println("|---|---|---|");
            rates.forEach((name, v) -> out.printf("| %s | %.0f | %.2f |%n", name, Options.median(v), Options.medianRatio(v, baseline)));
            out.println("(ratios: the median of each run's ratio, the methods of a run having run back to back)");
            out.printf("%npersistent strategy counters: %s%n", persistent.counters());
        }
    }

    private static Method segmentsThenFlush(SegmentIo io) {
        return (r, first, local) -> {
            for (int i = 0; i < BATCH; i++) {
                check(io.read(r[first + i], 0, local, i * SEGMENT, SEGMENT));
            }
            io.flush();
        };
    }

    /** Runs {@code method} over the pool for {@code seconds}; returns MB/s, after checking the last batch's bytes. */
    private static double time(Method method, int[] refs, ByteBuffer local, double seconds) {
        long end = System.nanoTime() + (long) (seconds * 1e9);
        long start = System.nanoTime();
        long segments = 0;
        int first = 0;
        int last = 0;
        do {
            method.batch(refs, first, local);
            segments += BATCH;
            last = first;
            first = first + 2 * BATCH > refs.length ? 0 : first + BATCH;
        } while (System.nanoTime() < end);
        double elapsed = (System.nanoTime() - start) / 1e9;
        for (int i = 0; i < BATCH; i++) {
            int ref = refs[last + i];
            for (int off = 0; off < SEGMENT; off += 61) {
                if (local.get(i * SEGMENT + off) != GrantPoolMain.pattern(ref, off)) {
                    throw new IllegalStateException("grant " + ref + " byte " + off + " arrived wrong: the benchmark measured a broken path");
                }
            }
        }
        return segments * SEGMENT / elapsed / 1e6;
    }

    private static void check(int gntst) {
        if (gntst != 0) {
            throw new IllegalStateException("a segment failed with GNTST " + gntst);
        }
    }
}
