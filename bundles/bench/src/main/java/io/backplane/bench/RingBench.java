package io.backplane.bench;

import io.backplane.ring.RingLayout;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code bench ring}: ring.h's netif TX ping-pong between two processes over one shared page in
 * /dev/shm. The same C frontend (ring-core's netfront_tx.c on Xen's macros) runs against the C
 * backend (netback_tx.c, the baseline) and the Java backend ({@link TxBackendMain}, BackRing's
 * batch form), frontend pinned to CPU 0 and backend to CPU 1 when taskset exists; runs alternate
 * so load hits both alike. Reports million requests answered per second and Java / C per batch.
 * Then the ring layouts (docs/ring-layouts.md): ring-core's netfront_layouts.c against
 * netback_layouts.c and against the Java backend on each layout, busy-polling and
 * notification-driven, with each layout's rate relative to the legacy layout's in the same run.
 */
final class RingBench implements Bench.Benchmark {

    /**
     * The least busy-polling warm-up by default: about half a second on an idle host, by when C2
     * has compiled the Java pass (with the JVM pinned to one CPU, its compiler shares that CPU).
     */
    private static final int POLL_WARMUP = 50_000_000;

    /** The layouts by their bench name, as ring_layouts.h's flags (netfront_layouts.c, TxBackendMain). */
    private static final Map<String, Integer> LAYOUT_FLAGS = new LinkedHashMap<>();

    static {
        LAYOUT_FLAGS.put("legacy", 0);
        LAYOUT_FLAGS.put("split", 1);
        LAYOUT_FLAGS.put("aligned", 2);
        LAYOUT_FLAGS.put("separate", 4);
        LAYOUT_FLAGS.put("all", 7);
    }

    @Override
    public String description() {
        return "netif TX ring ping-pong between processes: Java backend vs C backend, same C frontend, on ring.h "
                + "and on each ring layout, busy-polling and notification-driven [--requests N] [--notify-requests N] "
                + "[--warmup N] [--runs N] [--batches 1,8,64,256] [--layouts legacy,split,aligned,separate] (NAME@PAGES: PAGES pages per ring, 1 by default) "
                + "[--modes poll,notify]; first each backend's pass alone in one thread (ns per request)";
    }

    @Override
    public void run(List<String> args, PrintStream out) throws Exception {
        int requests = Integer.parseInt(Options.option(args, "--requests", "20000000"));
        int notifyRequests = Integer.parseInt(Options.option(args, "--notify-requests", "2000000"));
        // Requests answered before the frontend starts its clock, so the figures are the backends'
        // steady state: a JVM's JIT warm-up is not in them (C has none). Default: as many as are
        // then timed, and busy-polling at least POLL_WARMUP.
        int warmup = Integer.parseInt(Options.option(args, "--warmup", "-1"));
        int runs = Integer.parseInt(Options.option(args, "--runs", "5"));
        int[] batches = Options.intList(args, "--batches", "1,8,64,256");
        List<String> layouts = List.of(Options.option(args, "--layouts", "legacy,split,aligned,separate").split(","));
        List<String> modes = List.of(Options.option(args, "--modes", "poll,notify").split(","));
        if (requests <= 0 || notifyRequests <= 0 || runs <= 0) {
            throw new IllegalArgumentException("--requests, --notify-requests and --runs must be positive");
        }
        int longest = Math.max(requests, notifyRequests);
        if (warmup < -1 || (long) longest + (warmup >= 0 ? warmup : Math.max(longest, POLL_WARMUP)) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("--warmup must be 0 or more, and with --requests below 2^31");
        }
        for (String l : layouts) {
            if (!l.matches("[a-z]+(@([1-9]|1[0-6]))?")) {
                throw new IllegalArgumentException("a layout is NAME or NAME@PAGES (1-16 pages), not " + l);
            }
            if (!LAYOUT_FLAGS.containsKey(l.split("@")[0])) {
                throw new IllegalArgumentException("--layouts takes " + String.join(",", LAYOUT_FLAGS.keySet()) + ", not " + l);
            }
        }
        if (!List.of("poll", "notify").containsAll(modes)) {
            throw new IllegalArgumentException("--modes takes poll and/or notify, not " + modes);
        }
        Path work = Files.createTempDirectory("backplane-bench-ring");
        try {
            RingPeers peers = new RingPeers(work);
            out.println("building the C peers with gcc (ring-core's netfront_tx.c, netback_tx.c, netfront_layouts.c, "
                    + "netback_layouts.c)");
            Path netfront = peers.build("netfront_tx");
            Path netback = peers.build("netback_tx");
            Path layoutFront = peers.build("netfront_layouts");
            Path layoutBack = peers.build("netback_layouts");
            Path cost = peers.build("netback_cost");
            boolean pin = Files.isExecutable(Path.of("/usr/bin/taskset")) && Runtime.getRuntime().availableProcessors() > 1;
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            List<String> javaBackend = List.of(java, "-Xmx64m", "-cp", System.getProperty("java.class.path"),
                    TxBackendMain.class.getName());
            out.printf("machine: %s; load average %s%n", MachineInfo.describe(), MachineInfo.loadAverage());
            cost(out, pin, cost, List.of(java, "-Xmx64m", "-cp", System.getProperty("java.class.path"), TxCostMain.class.getName()),
                    batches, runs);

            out.println();
            int warm = warmup < 0 ? Math.max(requests, POLL_WARMUP) : warmup;
            out.printf("netif TX ring, 1 page (256 x 12 B), %,d requests timed per run after %,d of warm-up, %s, median of "
                    + "%d alternating runs%n", requests, warm, pin ? "frontend on CPU 0, backend on CPU 1"
                    : "not pinned (no taskset or one CPU)", runs);
            String total = Integer.toString(requests + warm);
            double[][][] rates = new double[batches.length][2][runs];
            RingLayout legacy = TxBackendMain.layout(0, 1);
            for (int r = 0; r < runs; r++) {
                for (int b = 0; b < batches.length; b++) {
                    List<String> front = List.of(netfront.toString(), "%FILE%", total, Integer.toString(batches[b]),
                            Integer.toString(warm));
                    List<String> javaCmd = new ArrayList<>(javaBackend);
                    javaCmd.addAll(List.of("%FILE%", total));
                    double[] pair = pair(work, pin, legacy, front, List.of(netback.toString(), "%FILE%", total), javaCmd);
                    rates[b][0][r] = pair[0];
                    rates[b][1][r] = pair[1];
                    out.printf("  run %d/%d, batch %3d: C %.1f M req/s, Java %.1f M req/s (load %s)%n", r + 1, runs, batches[b],
                            rates[b][0][r], rates[b][1][r], MachineInfo.loadAverage());
                }
            }
            out.println();
            out.println("| batch | C backend (M req/s) | Java backend (M req/s) | Java / C |");
            out.println("|---|---|---|---|");
            for (int b = 0; b < batches.length; b++) {
                out.printf("| %d | %.1f | %.1f | %.2f |%n", batches[b], Options.median(rates[b][0]),
                        Options.median(rates[b][1]), Options.medianRatio(rates[b][1], rates[b][0]));
            }
            out.println("(Java / C: the median of each run's ratio, as the two backends of a run ran back to back)");
            layouts(out, work, pin, layoutFront, layoutBack, javaBackend, layouts, modes, batches, runs, requests, notifyRequests,
                    warmup);
            out.printf("load average at the end: %s%n", MachineInfo.loadAverage());
        } finally {
            Options.deleteTree(work);
        }
    }

    /**
     * The cost section: each backend's pass alone, one thread on CPU 1, the ring in its cache
     * (netback_cost.c, {@link TxCostMain}): nanoseconds per request, the best 20,000-request chunk
     * of each run, so the host's load hardly touches it. What the code costs, apart from the
     * cross-CPU traffic that the ping-pong below adds to both sides.
     */
    private static void cost(PrintStream out, boolean pin, Path c, List<String> javaCost, int[] batches, int runs)
            throws IOException, InterruptedException {
        out.printf("backend pass alone, one thread%s, ring in cache: ns per request, best of 200 chunks of 20,000 requests, "
                + "median of %d runs%n", pin ? " on CPU 1" : "", runs);
        double[][][] ns = new double[batches.length][2][runs];
        for (int r = 0; r < runs; r++) {
            for (int b = 0; b < batches.length; b++) {
                String passes = Integer.toString(Math.max(1, 20_000 / batches[b]));
                String batch = Integer.toString(batches[b]);
                ns[b][0][r] = costOf(pin, List.of(c.toString(), batch, "200", passes));
                List<String> j = new ArrayList<>(javaCost);
                j.addAll(List.of(batch, "200", passes, "5"));
                ns[b][1][r] = costOf(pin, j);
            }
        }
        out.println();
        out.println("| batch | C (ns/request) | Java (ns/request) | Java speed / C |");
        out.println("|---|---|---|---|");
        for (int b = 0; b < batches.length; b++) {
            out.printf("| %d | %.2f | %.2f | %.2f |%n", batches[b], Options.median(ns[b][0]), Options.median(ns[b][1]),
                    Options.medianRatio(ns[b][0], ns[b][1]));
        }
        out.println("(Java speed / C: the median of each run's C time / Java time)");
    }

    private static double costOf(boolean pin, List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(pinned(pin, 1, cmd)).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String line = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0 || !line.startsWith("ns_per_request ")) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + " failed (" + line + "; its stderr is above)");
        }
        return Double.parseDouble(line.split(" ")[1]);
    }

    /** The layouts section: ring_layouts.h's peers and the Java backend on each layout and mode. */
    private static void layouts(PrintStream out, Path work, boolean pin, Path front, Path back, List<String> javaBackend,
                                List<String> layouts, List<String> modes, int[] batches, int runs, int requests,
                                int notifyRequests, int warmup) throws IOException, InterruptedException {
        out.println();
        out.printf("ring layouts (ring_layouts.h peers; NAME@N: N pages per ring, else 1): %s; %,d requests timed per busy-polling run, %,d per "
                + "notification-driven run (each side sleeps on a FIFO when idle), each after %s of warm-up; median of %d runs%n",
                String.join(", ", layouts), requests, notifyRequests, warmup < 0 ? String.format("as many (busy-polling at least %,d)",
                POLL_WARMUP) : String.format("%,d", warmup), runs);
        Path toFront = fifo(work, "to-front");
        Path toBack = fifo(work, "to-back");
        // [mode][layout][batch][c|java][run]
        double[][][][][] rates = new double[modes.size()][layouts.size()][batches.length][2][runs];
        for (int r = 0; r < runs; r++) {
            for (int m = 0; m < modes.size(); m++) {
                boolean notify = modes.get(m).equals("notify");
                int timed = notify ? notifyRequests : requests;
                int warm = warmup < 0 ? (notify ? timed : Math.max(timed, POLL_WARMUP)) : warmup;
                int total = timed + warm;
                for (int l = 0; l < layouts.size(); l++) {
                    String fl = peerFlags(layouts.get(l));
                    RingLayout layout = TxBackendMain.layout(fl);
                    for (int b = 0; b < batches.length; b++) {
                        String n = Integer.toString(total);
                        List<String> f = new ArrayList<>(List.of(front.toString(), "%FILE%", fl, n,
                                Integer.toString(batches[b])));
                        List<String> cb = new ArrayList<>(List.of(back.toString(), "%FILE%", fl, n));
                        List<String> jb = new ArrayList<>(javaBackend);
                        jb.addAll(List.of("%FILE%", n, fl));
                        if (notify) {
                            f.addAll(List.of(toBack.toString(), toFront.toString()));
                            cb.addAll(List.of(toFront.toString(), toBack.toString()));
                            jb.addAll(List.of(toFront.toString(), toBack.toString()));
                        }
                        f.add(Integer.toString(warm));
                        double[] pair = pair(work, pin, layout, f, cb, jb);
                        rates[m][l][b][0][r] = pair[0];
                        rates[m][l][b][1][r] = pair[1];
                        out.printf("  run %d/%d, %s, %s, batch %3d: C %.1f M req/s, Java %.1f M req/s%n", r + 1, runs,
                                modes.get(m), layouts.get(l), batches[b], rates[m][l][b][0][r], rates[m][l][b][1][r]);
                    }
                }
            }
        }
        out.println();
        out.println("| mode | layout | batch | C backend (M req/s) | Java backend (M req/s) | Java / C | C vs legacy | Java vs legacy |");
        out.println("|---|---|---|---|---|---|---|---|");
        int legacyAt = layouts.indexOf("legacy");
        for (int m = 0; m < modes.size(); m++) {
            for (int l = 0; l < layouts.size(); l++) {
                for (int b = 0; b < batches.length; b++) {
                    double[][] cell = rates[m][l][b];
                    String vsC = legacyAt < 0 ? "-" : String.format("%.2f", Options.medianRatio(cell[0], rates[m][legacyAt][b][0]));
                    String vsJava = legacyAt < 0 ? "-" : String.format("%.2f", Options.medianRatio(cell[1], rates[m][legacyAt][b][1]));
                    out.printf("| %s | %s | %d | %.1f | %.1f | %.2f | %s | %s |%n", modes.get(m), layouts.get(l), batches[b],
                            Options.median(cell[0]), Options.median(cell[1]), Options.medianRatio(cell[1], cell[0]), vsC, vsJava);
                }
            }
        }
        out.println("(ratios: medians of each run's ratio; \"vs legacy\": the same backend on this layout / on the legacy layout (one page)"
                + " in the same run)");
    }

    /** The peers' FLAGS argument for a layout token NAME or NAME@PAGES: ring_layouts.h's flags[@PAGES]. */
    private static String peerFlags(String layout) {
        int at = layout.indexOf('@');
        String name = at < 0 ? layout : layout.substring(0, at);
        return LAYOUT_FLAGS.get(name) + (at < 0 ? "" : layout.substring(at));
    }

    private static Path fifo(Path work, String name) throws IOException, InterruptedException {
        Path p = work.resolve(name);
        Process mk = new ProcessBuilder("mkfifo", p.toString()).redirectErrorStream(true).start();
        String err = new String(mk.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (mk.waitFor() != 0) {
            throw new IOException("mkfifo " + p + " failed: " + err);
        }
        return p;
    }

    /**
     * The C and the Java backend back to back against the same frontend command: their rates. Both
     * print the sum of every request's fields as they read them; a pair that disagrees is an error.
     */
    private static double[] pair(Path work, boolean pin, RingLayout layout, List<String> frontCmd, List<String> cBackend,
                                 List<String> javaBackend) throws IOException, InterruptedException {
        String[] c = run(work, pin, layout, frontCmd, cBackend);
        String[] java = run(work, pin, layout, frontCmd, javaBackend);
        if (!c[1].equals(java[1])) {
            throw new IOException("the C and the Java backend read different requests (" + c[1] + " / " + java[1] + ") from "
                    + String.join(" ", frontCmd));
        }
        return new double[] {rate(c[0]), rate(java[0])};
    }

    /** The frontend's rate, the last word of its summary line. */
    private static double rate(String summary) {
        return Double.parseDouble(summary.substring(summary.lastIndexOf(' ') + 1));
    }

    /** {@code %FILE%} in a command: the ring's file. */
    private static List<String> withFile(List<String> cmd, Path file) {
        List<String> out = new ArrayList<>();
        for (String c : cmd) {
            out.add(c.equals("%FILE%") ? file.toString() : c);
        }
        return out;
    }

    /**
     * One run: the frontend's summary line (its rate in million requests per second is the last
     * word) and the backend's ("answered N bytes SUM"). {@code %FILE%} in either command is the
     * ring's file, created here for {@code layout}.
     */
    private static String[] run(Path work, boolean pin, RingLayout layout, List<String> frontCmd, List<String> backend)
            throws IOException, InterruptedException {
        Path shm = Path.of("/dev/shm");
        Path file = Files.createTempFile(Files.isDirectory(shm) ? shm : work, "backplane-bench-ring-", ".ring");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(layout.bytes()), 0);
        }
        Process front = null;
        Process back = null;
        try {
            front = new ProcessBuilder(pinned(pin, 0, withFile(frontCmd, file))).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            BufferedReader fout = new BufferedReader(new InputStreamReader(front.getInputStream(), StandardCharsets.UTF_8));
            if (!"ready".equals(fout.readLine())) {
                throw new IOException(frontCmd.get(0) + " did not start (its stderr is above)");
            }
            back = new ProcessBuilder(pinned(pin, 1, withFile(backend, file))).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String summary = fout.readLine();
            if (!front.waitFor(600, TimeUnit.SECONDS) || front.exitValue() != 0 || summary == null) {
                throw new IOException(frontCmd.get(0) + " failed (" + summary + "; its stderr is above)");
            }
            if (!back.waitFor(60, TimeUnit.SECONDS) || back.exitValue() != 0) {
                throw new IOException("the backend " + String.join(" ", backend) + " failed (its stderr is above)");
            }
            // a line, well below a pipe's buffer: the exited backend could write all of it
            String answered = new String(back.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return new String[] {summary, answered};
        } finally {
            for (Process p : new Process[] {front, back}) {
                if (p != null && p.isAlive()) {
                    p.destroyForcibly();
                }
            }
            Files.deleteIfExists(file);
        }
    }

    private static List<String> pinned(boolean pin, int cpu, List<String> cmd) {
        if (!pin) {
            return cmd;
        }
        List<String> pinnedCmd = new ArrayList<>(List.of("taskset", "-c", Integer.toString(cpu)));
        pinnedCmd.addAll(cmd);
        return pinnedCmd;
    }
}
