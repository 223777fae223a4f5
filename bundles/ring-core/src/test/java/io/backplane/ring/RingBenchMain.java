package io.backplane.ring;

import io.backplane.ring.layout.SharedRingDescriptor;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Ring benchmark: the same C frontend (src/test/c/netfront_tx.c, Xen's ring.h) against the C
 * backend (netback_tx.c) and the Java backend ({@link NetifTxBackendMain}), each in its own
 * process, over one netif TX page in /dev/shm, frontend pinned to CPU 0 and backend to CPU 1
 * when taskset exists. Runs are interleaved; the table gives medians of million requests
 * answered per second and Java's ratio to C. Not a test: run it by hand (see docs/ring.md) until
 * {@code ./backplane bench ring} takes it over.
 *
 * <p>Usage: {@code RingBenchMain [TOTAL [REPS [BATCH,...]]]} with -Dbasedir=bundles/ring-core
 */
public final class RingBenchMain {

    private RingBenchMain() {
    }

    public static void main(String[] args) throws Exception {
        int total = args.length > 0 ? Integer.parseInt(args[0]) : 5_000_000;
        int reps = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        int[] batches = Arrays.stream((args.length > 2 ? args[2] : "1,8,64,256").split(",")).mapToInt(Integer::parseInt).toArray();
        Path netfront = NativeTools.compile("netfront_tx", "netfront_tx.c");
        Path netback = NativeTools.compile("netback_tx", "netback_tx.c");
        boolean pin = Files.isExecutable(Path.of("/usr/bin/taskset"));
        Path base = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> javaBackend = List.of(java, "-Xmx64m", "-cp",
                base.resolve("target/classes") + ":" + base.resolve("target/test-classes"), NetifTxBackendMain.class.getName());

        double[][][] rates = new double[batches.length][2][reps];
        for (int rep = 0; rep < reps; rep++) {
            for (int b = 0; b < batches.length; b++) {
                System.err.printf("run %d/%d, batch %d%n", rep + 1, reps, batches[b]);
                rates[b][0][rep] = run(pin, netfront, List.of(netback.toString()), total, batches[b]);
                rates[b][1][rep] = run(pin, netfront, javaBackend, total, batches[b]);
            }
        }
        System.out.printf("netif TX ring, 1 page (256 x 12 B), %d requests per run, median of %d interleaved runs%n", total, reps);
        System.out.println("| batch | C backend (M req/s) | Java backend (M req/s) | Java / C |");
        System.out.println("|---|---|---|---|");
        for (int b = 0; b < batches.length; b++) {
            double c = median(rates[b][0]);
            double j = median(rates[b][1]);
            System.out.printf("| %d | %.1f | %.1f | %.2f |%n", batches[b], c, j, j / c);
        }
    }

    private static double run(boolean pin, Path netfront, List<String> backend, int total, int batch) throws Exception {
        LegacyRingLayout layout = LegacyRingLayout.ofPages(1, SharedRingDescriptor.NETIF_TX_ENTRY_LENGTH);
        Path file = SharedMemoryFile.create("backplane-ring-bench-", layout.bytes());
        Process front = null;
        Process back = null;
        try {
            front = new ProcessBuilder(pinned(pin, 0, List.of(netfront.toString(), file.toString(),
                    Integer.toString(total), Integer.toString(batch)))).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(front.getInputStream(), StandardCharsets.UTF_8));
            if (!"ready".equals(out.readLine())) {
                throw new IllegalStateException("netfront_tx did not start");
            }
            List<String> cmd = new ArrayList<>(backend);
            cmd.addAll(List.of(file.toString(), Integer.toString(total)));
            back = new ProcessBuilder(pinned(pin, 1, cmd)).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String summary = out.readLine();
            if (!front.waitFor(300, TimeUnit.SECONDS) || front.exitValue() != 0 || summary == null) {
                throw new IllegalStateException("netfront_tx failed: " + summary);
            }
            back.waitFor(60, TimeUnit.SECONDS);
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

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
