package io.backplane.bench.fuzz;

import io.backplane.xenstore.wire.XenStoreDaemon;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One fuzzing thread's work on one socket: connections of a few dozen random frames each, one
 * after the other, until the deadline. A frame that lies about its length ends its connection.
 */
final class XsWireFuzzer implements Runnable {
    /** Paths dom0's fuzzers use: nothing the checker owns, nothing that contains it. */
    static final List<String> DOM0_PATHS = List.of("/fuzz", "/fuzz/a", "/fuzz/a/b", "rel", "rel/x", "/", "",
            "@introduceDomain", "@releaseDomain", "@other", "/local/domain/100/x", "//bad", "/bad path", "/fuzz/",
            "/tool/xenstored");

    /** Paths a guest's fuzzer uses: its own home, and the neighbour's and dom0's nodes it must not reach. */
    static List<String> guestPaths(int domid, String neighbourHome, String dom0Dir) {
        return List.of("data", "data/a/b", "/local/domain/" + domid + "/x", neighbourHome, neighbourHome + "/value",
                dom0Dir, dom0Dir + "/value", "/", "/local", "@introduceDomain", "@releaseDomain", "../x", "");
    }

    private final Path socket;
    private final XsFrameGenerator frames;
    private final Random random;
    private final long deadline;
    final AtomicLong framesSent = new AtomicLong();
    final AtomicLong connections = new AtomicLong();

    XsWireFuzzer(Path socket, List<String> paths, long seed, long deadlineNanos) {
        this.socket = socket;
        this.random = new Random(seed);
        this.frames = new XsFrameGenerator(random, paths);
        this.deadline = deadlineNanos;
    }

    @Override
    public void run() {
        while (System.nanoTime() < deadline) {
            try (FuzzConnection c = new FuzzConnection(socket)) {
                connections.incrementAndGet();
                for (int i = 1 + random.nextInt(40); i > 0 && System.nanoTime() < deadline; i--) {
                    XsFrameGenerator.Frame f = frames.next();
                    boolean open = c.send(f.bytes());
                    framesSent.incrementAndGet();
                    if (!open || f.shape() != XsFrameGenerator.Shape.WHOLE) {
                        break;
                    }
                }
            } catch (IOException e) {
                // the daemon hung up on us mid-write: what a fuzzer is for
            }
        }
    }

    static Path guestSocket(Path stateDir, int domid) {
        return XenStoreDaemon.domainSocket(stateDir, domid);
    }
}
