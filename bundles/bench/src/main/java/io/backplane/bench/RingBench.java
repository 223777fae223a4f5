package io.backplane.bench;

import io.backplane.ring.LegacyRingLayout;
import io.backplane.ring.layout.SharedRingDescriptor;
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
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code bench ring}: ring.h's netif TX ping-pong between two processes over one shared page in
 * /dev/shm. The same C frontend (ring-core's netfront_tx.c on Xen's macros) runs against the C
 * backend (netback_tx.c, the baseline) and the Java backend ({@link TxBackendMain}, BackRing's
 * batch form), frontend pinned to CPU 0 and backend to CPU 1 when taskset exists; runs alternate
 * so load hits both alike. Reports million requests answered per second and Java / C per batch.
 */
final class RingBench implements Bench.Benchmark {

    @Override
    public String description() {
        return "netif TX ring ping-pong between processes: Java backend vs C backend, same C frontend "
                + "[--requests N] [--runs N] [--batches 1,8,64,256]";
    }

    @Override
    public void run(List<String> args, PrintStream out) throws Exception {
        int requests = Integer.parseInt(Options.option(args, "--requests", "20000000"));
        int runs = Integer.parseInt(Options.option(args, "--runs", "5"));
        int[] batches = Options.intList(args, "--batches", "1,8,64,256");
        if (requests <= 0 || runs <= 0) {
            throw new IllegalArgumentException("--requests and --runs must be positive");
        }
        Path work = Files.createTempDirectory("backplane-bench-ring");
        try {
            RingPeers peers = new RingPeers(work);
            out.println("building the C peers with gcc (ring-core's netfront_tx.c, netback_tx.c)");
            Path netfront = peers.build("netfront_tx");
            Path netback = peers.build("netback_tx");
            boolean pin = Files.isExecutable(Path.of("/usr/bin/taskset")) && Runtime.getRuntime().availableProcessors() > 1;
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            List<String> javaBackend = List.of(java, "-Xmx64m", "-cp", System.getProperty("java.class.path"),
                    TxBackendMain.class.getName());

            out.printf("machine: %s%n", MachineInfo.describe());
            out.printf("netif TX ring, 1 page (256 x 12 B), %,d requests per run, %s, median of %d alternating runs%n",
                    requests, pin ? "frontend on CPU 0, backend on CPU 1" : "not pinned (no taskset or one CPU)", runs);
            double[][][] rates = new double[batches.length][2][runs];
            for (int r = 0; r < runs; r++) {
                for (int b = 0; b < batches.length; b++) {
                    rates[b][0][r] = run(work, pin, netfront, List.of(netback.toString()), requests, batches[b]);
                    rates[b][1][r] = run(work, pin, netfront, javaBackend, requests, batches[b]);
                    out.printf("  run %d/%d, batch %3d: C %.1f M req/s, Java %.1f M req/s%n", r + 1, runs, batches[b],
                            rates[b][0][r], rates[b][1][r]);
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
        } finally {
            Options.deleteTree(work);
        }
    }

    /** One run: the frontend's rate in million requests per second, timed from its first response. */
    private static double run(Path work, boolean pin, Path netfront, List<String> backend, int total, int batch)
            throws IOException, InterruptedException {
        LegacyRingLayout layout = LegacyRingLayout.ofPages(1, SharedRingDescriptor.NETIF_TX_ENTRY_LENGTH);
        Path shm = Path.of("/dev/shm");
        Path file = Files.createTempFile(Files.isDirectory(shm) ? shm : work, "backplane-bench-ring-", ".ring");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(layout.bytes()), 0);
        }
        Process front = null;
        Process back = null;
        try {
            front = new ProcessBuilder(pinned(pin, 0, List.of(netfront.toString(), file.toString(),
                    Integer.toString(total), Integer.toString(batch)))).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            BufferedReader fout = new BufferedReader(new InputStreamReader(front.getInputStream(), StandardCharsets.UTF_8));
            if (!"ready".equals(fout.readLine())) {
                throw new IOException("netfront_tx did not start (its stderr is above)");
            }
            List<String> cmd = new ArrayList<>(backend);
            cmd.addAll(List.of(file.toString(), Integer.toString(total)));
            back = new ProcessBuilder(pinned(pin, 1, cmd)).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String summary = fout.readLine();
            if (!front.waitFor(600, TimeUnit.SECONDS) || front.exitValue() != 0 || summary == null) {
                throw new IOException("netfront_tx failed (" + summary + "; its stderr is above)");
            }
            if (!back.waitFor(60, TimeUnit.SECONDS) || back.exitValue() != 0) {
                throw new IOException("the backend " + backend.get(backend.size() - 1) + " failed (its stderr is above)");
            }
            return Double.parseDouble(summary.substring(summary.lastIndexOf(' ') + 1));
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
