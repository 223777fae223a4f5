package io.backplane.blkback;

import io.backplane.nativeio.IoVector;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The zero-copy reads and writes of one ring that are in flight at once (blkback.c's pool of
 * {@code pending_req} with the bios it submits, and {@code end_block_io_op}): the ring's worker
 * hands each request to one of a few I/O threads and goes on taking requests, so the requests
 * blkfront splits a large I/O into overlap, as they do under Linux blkback. The I/O thread that
 * did a request answers it ({@link Completion}). At most {@link #SLOTS} requests are in flight;
 * the worker waits for a free slot beyond that.
 */
final class InFlightIo {
    /** I/O threads per ring: a dom0 has few vCPUs, and each preadv/pwritev keeps one busy copying. */
    static final int THREADS = 2;
    /** Requests in flight per ring (a 1 MiB I/O is eight 128 KiB requests). */
    static final int SLOTS = 16;

    /** One request in flight: what its I/O needs and what its response carries. */
    static final class Pending {
        /** The guest pages, in segment order (views the strategy gave, valid until its next flush). */
        final IoVector iov;
        long id;
        int operation;
        boolean read;
        long sector;
        long sectors;

        Pending(IoVector iov) {
            this.iov = iov;
        }
    }

    /** Answers a request whose I/O ended; {@code failure} is null when it succeeded. Called on the thread that did it. */
    interface Completion {
        void done(Pending p, RuntimeException failure);
    }

    private final VbdImage image;
    private final Completion completion;
    private final ArrayBlockingQueue<Pending> free = new ArrayBlockingQueue<>(SLOTS);
    private final ThreadPoolExecutor pool;
    private int inFlight;
    /** The most requests that were in flight at once (pv:show's {@code max-in-flight}). */
    private volatile int maxInFlight;

    InFlightIo(VbdImage image, int maxSegments, String threadName, Completion completion) {
        this.image = image;
        this.completion = completion;
        for (int i = 0; i < SLOTS; i++) {
            free.add(new Pending(image.ioVector(maxSegments)));
        }
        // Threads start with the first request handed over and end after a minute without work.
        pool = new ThreadPoolExecutor(THREADS, THREADS, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
        pool.allowCoreThreadTimeOut(true);
    }

    /** A free slot, waiting for a request in flight to end when all are taken. */
    Pending slot() {
        try {
            return free.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted waiting for a request in flight to end");
        }
    }

    /** Gives back a slot that was not started. */
    void release(Pending p) {
        free.add(p);
    }

    /** Starts {@code p} on an I/O thread. */
    void submit(Pending p) {
        begin();
        pool.execute(() -> run(p));
    }

    /** Does {@code p} on the calling thread (nothing to overlap with: no hand-off). */
    void runHere(Pending p) {
        begin();
        run(p);
    }

    private synchronized void begin() {
        if (++inFlight > maxInFlight) {
            maxInFlight = inFlight;
        }
    }

    int maxInFlight() {
        return maxInFlight;
    }

    private void run(Pending p) {
        RuntimeException failure = null;
        try {
            if (p.read) {
                image.read(p.sector, p.iov);
            } else {
                image.write(p.sector, p.iov);
            }
        } catch (RuntimeException e) {
            failure = e;
        }
        try {
            completion.done(p, failure);
        } finally {
            synchronized (this) {
                if (--inFlight == 0) {
                    notifyAll();
                }
            }
            free.add(p);
        }
    }

    /** True when nothing is in flight (stays so until the caller, the ring's worker, starts more). */
    synchronized boolean idle() {
        return inFlight == 0;
    }

    /** Waits until every request in flight is answered. */
    synchronized void drain() {
        boolean interrupted = false;
        while (inFlight > 0) {
            try {
                wait();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** After {@link #drain()}: lets the I/O threads end. */
    void shutdown() {
        pool.shutdown();
    }
}
