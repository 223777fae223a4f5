package io.backplane.backend;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * Runs one device's tasks one at a time, in order, on a shared pool: a device never races with
 * itself, and a device stuck in its driver holds one pool thread, not the others' work.
 */
final class SerialExecutor implements Executor {
    private final Executor pool;
    private final Consumer<Throwable> uncaught;
    private final Deque<Runnable> tasks = new ArrayDeque<>();
    private boolean running;

    SerialExecutor(Executor pool, Consumer<Throwable> uncaught) {
        this.pool = pool;
        this.uncaught = uncaught;
    }

    @Override
    public void execute(Runnable task) {
        synchronized (tasks) {
            tasks.add(task);
            if (running) {
                return;
            }
            running = true;
        }
        pool.execute(this::drain);
    }

    private void drain() {
        while (true) {
            Runnable next;
            synchronized (tasks) {
                next = tasks.poll();
                if (next == null) {
                    running = false;
                    return;
                }
            }
            try {
                next.run();
            } catch (Throwable t) {
                uncaught.accept(t);
            }
        }
    }
}
