package io.backplane.ring;

import java.util.Queue;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/**
 * Work handed to a ring's worker thread to run between two batches, when every request it took
 * is answered and pushed and its {@code SegmentIo.flush()} is done: a hot swap of the ring's
 * strategy runs there, so the worker never sees its ring change under it. The worker calls
 * {@link #runPending()} at its boundary and, after it ran anything, re-checks its ring before
 * sleeping (an event that came during the task is then not slept through).
 */
public final class BatchBoundary {
    private final Queue<FutureTask<?>> pending = new ConcurrentLinkedQueue<>();

    /**
     * Runs {@code task} on the worker at its next boundary and waits for it.
     *
     * @param wake  wakes the worker (unpark, semaphore release)
     * @param alive whether the worker still runs: a stopped worker never reaches a boundary
     * @throws IllegalStateException when the worker stopped or did not get there in time
     * @throws RuntimeException      what the task threw, as it threw it
     */
    public <T> T runAtBoundary(Callable<T> task, Runnable wake, BooleanSupplier alive, long timeoutMillis) {
        FutureTask<T> f = new FutureTask<>(task);
        pending.add(f);
        wake.run();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        try {
            while (true) {
                try {
                    return f.get(20, TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    if (!alive.getAsBoolean() || System.nanoTime() > deadline) {
                        if (pending.remove(f)) {
                            throw new IllegalStateException(alive.getAsBoolean()
                                    ? "the ring's worker did not reach a batch boundary within " + timeoutMillis + " ms"
                                    : "the ring's worker is not running");
                        }
                        // It started meanwhile: wait for its end.
                    }
                    wake.run();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            pending.remove(f);
            throw new IllegalStateException("interrupted waiting for the ring's worker");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    /** On the worker, at a batch boundary: runs what is pending. True when it ran anything. */
    public boolean runPending() {
        boolean ran = false;
        FutureTask<?> f;
        while ((f = pending.poll()) != null) {
            f.run();
            ran = true;
        }
        return ran;
    }
}
