package io.backplane.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.ring.BackRing;
import io.backplane.ring.LegacyRingLayout;
import io.backplane.ring.RingLayout;
import io.backplane.ring.layout.SharedRingDescriptor;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ring benchmark's Java backend answers a million requests of the C frontend (ring-core's
 * netfront_tx.c, built by the benchmark's own gcc step) with every field read as the frontend
 * wrote it: what {@code bench ring} measures is a correct backend.
 */
class TxBackendMainTest {
    static final int TOTAL = 1_000_000;

    @TempDir
    Path dir;

    @Test
    void cFrontendAgainstTheBatchFormOfTheJavaBackend() throws Exception {
        Path netfront = new RingPeers(dir).build("netfront_tx");
        LegacyRingLayout layout = LegacyRingLayout.ofPages(1, SharedRingDescriptor.NETIF_TX_ENTRY_LENGTH);
        Path file = ringFile(layout);
        Process front = new ProcessBuilder(netfront.toString(), file.toString(), Integer.toString(TOTAL), "64")
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            serve(front, file, layout, TOTAL, null);
        } finally {
            front.destroyForcibly();
        }
    }

    /**
     * The layouts' C frontend (ring_layouts.h, every feature on, two pages per ring: "7@2") against
     * the Java backend on the same layout, notification-driven: each side sleeps on its FIFO when idle and is woken only
     * by the other's notifications, and every request still arrives intact.
     */
    @Test
    void layoutFrontendAgainstTheJavaBackendNotificationDriven() throws Exception {
        int total = 200_000;
        Path netfront = new RingPeers(dir).build("netfront_layouts");
        RingLayout layout = TxBackendMain.layout("7@2");
        assertThat(layout.bytes()).as("two pages per direction").isEqualTo(4 * 4096);
        Path file = ringFile(layout);
        Path toFront = dir.resolve("to-front");
        Path toBack = dir.resolve("to-back");
        assertThat(new ProcessBuilder("mkfifo", toFront.toString(), toBack.toString()).start().waitFor()).isZero();
        Process front = new ProcessBuilder(netfront.toString(), file.toString(), "7@2", Integer.toString(total), "8",
                toBack.toString(), toFront.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (TxBackendMain.Notifications n = new TxBackendMain.Notifications(toFront.toString(), toBack.toString())) {
            String summary = serve(front, file, layout, total, n);
            assertThat(summary).as("the frontend slept and was woken by notifications").doesNotContain(" sleeps 0 ");
        } finally {
            front.destroyForcibly();
        }
    }

    /**
     * Separate request and response rings (12-byte requests, 4-byte responses, each ring its own
     * stride), busy-polling: the third slot geometry the Java backend's pass is specialised for.
     */
    @Test
    void layoutFrontendAgainstTheJavaBackendOnSeparateRings() throws Exception {
        int total = 200_000;
        Path netfront = new RingPeers(dir).build("netfront_layouts");
        RingLayout layout = TxBackendMain.layout(4, 1);
        Path file = ringFile(layout);
        Process front = new ProcessBuilder(netfront.toString(), file.toString(), "4", Integer.toString(total), "64")
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            serve(front, file, layout, total, null);
        } finally {
            front.destroyForcibly();
        }
    }

    /**
     * The bench's single-thread cost part compares like with like: ring-core's netback_cost.c and
     * {@link TxCostMain} run the same passes over the same requests (responses overwriting the
     * slots as they go) and read the same fields, so their sums agree.
     */
    @Test
    void costProgramsDoTheSameWork() throws Exception {
        Path cost = new RingPeers(dir).build("netback_cost");
        Process c = new ProcessBuilder(cost.toString(), "64", "1", "1000").redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String line = new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(c.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(c.exitValue()).isZero();
        assertThat(line).matches("ns_per_request [0-9.]+ sum [0-9]+");
        long cSum = Long.parseLong(line.substring(line.lastIndexOf(' ') + 1));
        assertThat(TxCostMain.measure(64, 1, 1000, 1).sum()).isEqualTo(cSum);
    }

    /** A zeroed ring file of {@code layout}'s size, for the frontend to map. */
    private Path ringFile(RingLayout layout) throws Exception {
        Path file = dir.resolve("tx.ring");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(layout.bytes()), 0);
        }
        return file;
    }

    /**
     * Once the frontend says ready, the Java backend serves {@code total} requests on {@code file}
     * ({@code notifications} null: busy-polling); checks the frontend's exit, that it saw every
     * request answered and that the backend read every field as written; returns its summary line.
     */
    private static String serve(Process front, Path file, RingLayout layout, int total, TxBackendMain.Notifications notifications)
            throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(front.getInputStream(), StandardCharsets.UTF_8));
        assertThat(out.readLine()).isEqualTo("ready");
        ByteBuffer shared;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            shared = ch.map(FileChannel.MapMode.READ_WRITE, 0, layout.bytes());
        }
        long bytes = TxBackendMain.serve(BackRing.attach(shared, layout), total, System.nanoTime() + TimeUnit.SECONDS.toNanos(120),
                notifications);
        assertThat(front.waitFor(60, TimeUnit.SECONDS)).as("frontend finishes").isTrue();
        assertThat(front.exitValue()).as("frontend exit status (its stderr names a bad response)").isZero();
        String summary = out.readLine();
        assertThat(summary).startsWith("sent " + total + " answered " + total + " ");
        assertThat(bytes).as("every request's fields, as read by the backend").isEqualTo(expectedSum(total));
        return summary;
    }

    /** What serve() returns for requests 0..total-1 of tx_pattern.h. */
    private static long expectedSum(int total) {
        long expected = 0;
        for (int seq = 0; seq < total; seq++) {
            int gref = seq * 0x9e3779b1;
            short offset = (short) ((seq * 13) & 0xfff);
            short flags = (short) ((seq >> 4) & 0xf);
            int size = (seq * 7 + 60) & 0xffff;
            expected += size + ((gref ^ offset ^ flags) & 1);
        }
        return expected;
    }
}
