package io.backplane.bench;

import io.backplane.ring.BackRing;
import io.backplane.ring.BlkifRequest;
import io.backplane.ring.BlkifResponse;
import io.backplane.ring.FrontRing;
import io.backplane.ring.LegacyRingLayout;
import io.backplane.ring.NetifTxRequest;
import io.backplane.ring.NetifTxResponse;
import io.backplane.ring.RequestMirror;
import io.backplane.ring.RingEntry;
import io.backplane.ring.layout.SharedRingDescriptor;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code bench mirror}: what the request mirror (docs/backends.md, "Restart and re-attach") costs a
 * backend per request, on the ring protocol alone: one thread fills a one-page ring, takes every
 * request with {@code BackRing.copyRequest}, answers and publishes, with no data moved, once
 * without a mirror and once with one (a file in /dev/shm), alternating per run.
 */
final class MirrorBench implements Bench.Benchmark {

    @Override
    public String description() {
        return "the request mirror's cost per request on the bare ring protocol (netif TX, blkif), "
                + "against the same ring without it [--requests N] [--runs N]";
    }

    @Override
    public void run(List<String> args, PrintStream out) throws Exception {
        long requests = Long.parseLong(Options.option(args, "--requests", "20000000"));
        int runs = Integer.parseInt(Options.option(args, "--runs", "7"));
        if (requests <= 0 || runs <= 0) {
            throw new IllegalArgumentException("--requests and --runs must be positive");
        }
        Path shm = Path.of("/dev/shm");
        Path dir = Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "backplane-bench-mirror")
                : Files.createTempDirectory("backplane-bench-mirror");
        try {
            out.printf("machine: %s%n", MachineInfo.describe());
            out.printf("%d requests per cell, one-page ring.h rings, median of %d alternating runs after a warm-up%n%n",
                    requests, runs);
            out.println("| ring | ns / request without | ns / request with the mirror | with / without |");
            out.println("|---|---|---|---|");
            for (String protocol : List.of("netif TX", "blkif")) {
                boolean blkif = protocol.equals("blkif");
                LegacyRingLayout layout = LegacyRingLayout.ofPages(1, blkif ? SharedRingDescriptor.BLKIF_ENTRY_LENGTH
                        : SharedRingDescriptor.NETIF_TX_ENTRY_LENGTH);
                RingEntry request = blkif ? new BlkifRequest() : new NetifTxRequest();
                RingEntry response = blkif ? new BlkifResponse() : new NetifTxResponse();
                Path file = dir.resolve(blkif ? "blkif.requests" : "tx.requests");
                one(layout, request, response, null, requests / 10);
                one(layout, request, response, file, requests / 10);
                double[] without = new double[runs];
                double[] with = new double[runs];
                for (int r = 0; r < runs; r++) {
                    without[r] = one(layout, request, response, null, requests);
                    with[r] = one(layout, request, response, file, requests);
                }
                out.printf("| %s | %.1f | %.1f | %.2f |%n", protocol, Options.median(without), Options.median(with),
                        Options.medianRatio(with, without));
            }
        } finally {
            Options.deleteTree(dir);
        }
    }

    /** ns per request over {@code requests} taken, answered and published, in ring-sized batches. */
    private static double one(LegacyRingLayout layout, RingEntry request, RingEntry response, Path mirror, long requests) {
        ByteBuffer page = ByteBuffer.allocateDirect(SharedRingDescriptor.XEN_PAGE_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        FrontRing front = FrontRing.init(page, layout);
        BackRing back = mirror == null ? BackRing.attach(page, layout)
                : BackRing.attach(page, layout, RequestMirror.map(mirror, layout, false));
        long done = 0;
        long start = System.nanoTime();
        while (done < requests) {
            for (int i = 0; i < layout.entries(); i++) {
                front.nextRequestSlot();
            }
            front.pushRequestsAndCheckNotify();
            int n = back.unconsumedRequests();
            for (int i = 0; i < n; i++) {
                back.copyRequest(request);
            }
            for (int i = 0; i < n; i++) {
                back.putResponse(response);
            }
            back.pushResponsesAndCheckNotify();
            front.consumeResponses(front.unconsumedResponses());
            done += n;
        }
        return (System.nanoTime() - start) / (double) done;
    }
}
