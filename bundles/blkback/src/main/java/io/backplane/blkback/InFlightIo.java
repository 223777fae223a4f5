package io.backplane.blkback;

import io.backplane.nativeio.IoVector;
import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The zero-copy reads and writes of one ring that are in flight at once (blkback.c's pool of
 * {@code pending_req} with the bios it submits, and {@code end_block_io_op}): the ring's worker
 * hands each I/O to one of a few I/O threads and goes on taking requests. The I/O thread that
 * did it answers it ({@link Completion}). One I/O may carry several ring requests that follow each
 * other on the disk (the block layer's merge under blkback's plug: blkfront cuts a 1 MiB
 * {@code O_DIRECT} I/O into 128 KiB requests, which go to the image as one preadv/pwritev and
 * are answered with one push). At most {@link #SLOTS} I/Os are in flight; the worker waits for a
 * free slot beyond that.
 */
final class InFlightIo {
    /** I/O threads per ring: a dom0 has few vCPUs, and each preadv/pwritev keeps one busy copying. */
    static final int THREADS = 2;
    /** I/Os in flight per ring. */
    static final int SLOTS = 16;
    /**
     * Segments one I/O may carry when requests are merged into it: a 1 MiB I/O in 4 KiB pages
     * (well below the kernel's IOV_MAX of 1024); a single request may always carry its own
     * maximum.
     */
    static final int MERGE_SEGMENTS = 256;
    /** Ring requests one I/O may answer (blkfront's smallest useful requests are one page). */
    static final int MERGE_REQUESTS = 32;

    /**
     * One I/O in flight: the image range, the guest pages it moves, and the ring requests it
     * answers (one, or several that follow each other on the disk, in ring order).
     */
    static final class Pending {
        /** The guest pages, in segment order (views the strategy gave, valid until its next flush). */
        final IoVector iov;
        /** Segments {@link #iov} holds, and how many it may hold. */
        int segments;
        final int maxSegments;
        final long[] ids = new long[MERGE_REQUESTS];
        final int[] operations = new int[MERGE_REQUESTS];
        int requests;
        boolean read;
        long sector;
        long sectors;

        Pending(IoVector iov, int maxSegments) {
            this.iov = iov;
            this.maxSegments = maxSegments;
        }

        /** Starts an empty I/O at {@code sector}. */
        void begin(boolean read, long sector) {
            iov.clear();
            this.segments = 0;
            this.requests = 0;
            this.read = read;
            this.sector = sector;
            this.sectors = 0;
        }

        /** True when a request of {@code nseg} segments at {@code at} may join: same direction, next on the disk, room left. */
        boolean joins(boolean read, long at, int nseg) {
            return this.read == read && at == sector + sectors && requests < MERGE_REQUESTS
                    && segments + nseg <= maxSegments;
        }

        /**
         * Adds a request whose data is its {@code nseg} segments, in order: segment {@code i} at
         * {@code addresses[i]} for {@code lengths[i]} bytes, or {@code views[i]} where its address is 0.
         */
        void add(long id, int operation, long requestSectors, long[] addresses, ByteBuffer[] views, int[] lengths,
                 int nseg) {
            for (int i = 0; i < nseg; i++) {
                if (addresses[i] != 0) {
                    iov.add(addresses[i], lengths[i]);
                } else {
                    iov.add(views[i]);
                }
            }
            segments += nseg;
            ids[requests] = id;
            operations[requests] = operation;
            requests++;
            sectors += requestSectors;
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
    /** The most I/Os that were in flight at once (pv:show's {@code max-in-flight}). */
    private volatile int maxInFlight;

    /**
     * @param threads the ring's I/O threads ({@link #threads} or {@link #startedThreads}), this
     *                ring's from now on: they end after a minute without work, and at {@link #shutdown}
     */
    InFlightIo(VbdImage image, int maxSegments, ThreadPoolExecutor threads, Completion completion) {
        this.image = image;
        this.completion = completion;
        int iovSegments = Math.max(maxSegments, MERGE_SEGMENTS);
        for (int i = 0; i < SLOTS; i++) {
            free.add(new Pending(image.ioVector(iovSegments), iovSegments));
        }
        pool = threads;
        pool.allowCoreThreadTimeOut(true);
    }

    /** A ring's I/O threads, started with the first I/O handed over. */
    static ThreadPoolExecutor threads(String threadName) {
        return new ThreadPoolExecutor(THREADS, THREADS, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * A ring's I/O threads started now, and kept (however long idle) until a ring takes them: a
     * re-attach's worker starts them ahead. Under emulation a new thread first ran 0.1-0.4 s after
     * its start, and the guest's first requests after a re-attach would wait for it.
     */
    static ThreadPoolExecutor startedThreads(String threadName) {
        ThreadPoolExecutor pool = threads(threadName);
        pool.prestartAllCoreThreads();
        return pool;
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
