package io.backplane.bench;

import io.backplane.api.log.OperatorLog;
import io.backplane.xenstore.store.Quotas;
import io.backplane.xenstore.store.Store;
import io.backplane.xs.wire.Payload;
import io.backplane.xenstore.wire.XenStoreDaemon;
import io.backplane.xs.wire.XsWire;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * READ and WRITE round trips per second over xenstored's dom0 socket with 1 and 4 concurrent
 * clients, each next to a Unix-socket echo that moves the same bytes and does nothing else.
 * The ratio is the share of the socket floor the daemon keeps.
 */
final class XenStoreBench implements Bench.Benchmark {
    private static final int[] CLIENTS = {1, 4};
    private static final int ROUNDS = 3;

    @Override
    public String description() {
        return "XenStore READ/WRITE ops/s over the socket vs. a Unix-socket echo [--seconds N] [--value-size N]";
    }

    private record Cell(String op, int clients, double xenstored, double echo) {
    }

    @Override
    public void run(List<String> args, PrintStream out) throws Exception {
        double seconds = Double.parseDouble(Options.option(args, "--seconds", "1"));
        int valueSize = Integer.parseInt(Options.option(args, "--value-size", "64"));
        Path dir = Files.createTempDirectory("backplane-bench-xenstore");
        out.println("XenStore benchmark: " + MachineInfo.describe());
        out.printf("value size %d bytes; each cell: median of %d alternating runs of %.1f s (after %.1f s warm-up)%n",
                valueSize, ROUNDS, seconds, seconds / 4);
        Store store = new Store(Quotas.XEN_4_17);
        List<Cell> cells = new ArrayList<>();
        try (XenStoreDaemon daemon = new XenStoreDaemon(store, dir, OperatorLog.stderrWarnings("xenstored"))) {
            daemon.start();
            byte[] value = new byte[valueSize];
            Arrays.fill(value, (byte) 'v');
            byte[] readPath = Payload.strings("/bench/key");
            writeValue(daemon.dom0Socket(), readPath, value);
            Path echoSocket = dir.resolve("echo.sock");
            out.print("  warming up both servers ... ");
            out.flush();
            for (String op : List.of("READ", "WRITE")) {
                measure(daemon.dom0Socket(), op, readPath, value, 4, seconds / 2);
                try (EchoServer e = new EchoServer(echoSocket, valueSize)) {
                    measure(echoSocket, op, readPath, value, 4, seconds / 2);
                }
            }
            out.println("done");
            for (String op : List.of("READ", "WRITE")) {
                int replySize = op.equals("READ") ? valueSize : Payload.OK.length;
                for (int clients : CLIENTS) {
                    // Alternate the two servers and keep the median of each, so load from
                    // elsewhere on the machine hits both sides alike.
                    double[] xs = new double[ROUNDS];
                    double[] echo = new double[ROUNDS];
                    out.printf("  %-5s %d client%s:", op, clients, clients == 1 ? " " : "s");
                    for (int r = 0; r < ROUNDS; r++) {
                        xs[r] = measure(daemon.dom0Socket(), op, readPath, value, clients, seconds);
                        try (EchoServer e = new EchoServer(echoSocket, replySize)) {
                            echo[r] = measure(echoSocket, op, readPath, value, clients, seconds);
                        }
                        out.printf(" [xenstored %,.0f, echo %,.0f]", xs[r], echo[r]);
                        out.flush();
                    }
                    out.println();
                    cells.add(new Cell(op, clients, Options.median(xs), Options.median(echo)));
                }
            }
        } finally {
            Files.deleteIfExists(dir.resolve("echo.sock"));
            Options.deleteTree(dir);
        }
        out.println();
        out.println("| op | clients | xenstored ops/s | Unix-socket echo ops/s | xenstored / echo |");
        out.println("|---|---|---|---|---|");
        for (Cell c : cells) {
            out.printf("| %s | %d | %,.0f | %,.0f | %.0f%% |%n", c.op(), c.clients(), c.xenstored(), c.echo(),
                    100 * c.xenstored() / c.echo());
        }
        double readRatio = cells.stream().filter(c -> c.op().equals("READ")).mapToDouble(c -> c.xenstored() / c.echo()).min().orElse(0);
        out.printf("%nTarget READ >= 50%% of echo: %s (lowest READ ratio %.0f%%)%n", readRatio >= 0.5 ? "met" : "NOT met", 100 * readRatio);
    }

    private static void writeValue(Path socket, byte[] path, byte[] value) throws IOException {
        try (FrameClient c = new FrameClient(socket, XsWire.frame(XsWire.WRITE, 0, 0, concat(path, value)))) {
            if (c.roundTrip() != XsWire.WRITE) {
                throw new IOException("xenstored refused the benchmark's WRITE");
            }
        }
    }

    /** Total round trips per second of {@code clients} threads, each on its own connection. */
    private static double measure(Path socket, String op, byte[] readPath, byte[] value, int clients, double seconds)
            throws Exception {
        List<FrameClient> conns = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            ByteBuffer request = op.equals("READ")
                    ? XsWire.frame(XsWire.READ, i, 0, readPath)
                    : XsWire.frame(XsWire.WRITE, i, 0, concat(Payload.strings("/bench/w" + i), value));
            conns.add(new FrameClient(socket, request));
        }
        AtomicBoolean counting = new AtomicBoolean();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Exception> failure = new AtomicReference<>();
        long[] counts = new long[clients];
        CountDownLatch done = new CountDownLatch(clients);
        for (int i = 0; i < clients; i++) {
            int id = i;
            Thread t = new Thread(() -> {
                try {
                    FrameClient c = conns.get(id);
                    long n = 0;
                    while (!stop.get()) {
                        if (c.roundTrip() == XsWire.ERROR) {
                            throw new IOException("error reply during the benchmark");
                        }
                        if (counting.get()) {
                            n++;
                        }
                    }
                    counts[id] = n;
                } catch (Exception e) {
                    failure.set(e);
                } finally {
                    done.countDown();
                }
            }, "bench-client-" + i);
            t.start();
        }
        Thread.sleep((long) (seconds * 250)); // warm-up: JIT, socket buffers
        counting.set(true);
        long start = System.nanoTime();
        Thread.sleep((long) (seconds * 1000));
        counting.set(false);
        double elapsed = (System.nanoTime() - start) / 1e9;
        stop.set(true);
        done.await();
        for (FrameClient c : conns) {
            c.close();
        }
        if (failure.get() != null) {
            throw failure.get();
        }
        return Arrays.stream(counts).sum() / elapsed;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

}
