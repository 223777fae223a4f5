package io.backplane.bench.fuzz;

import io.backplane.api.xenstore.XenStore;
import io.backplane.api.xenstore.XsWatch;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * What an ordinary dom0 tool and an ordinary guest do while the fuzzers run, checked at every
 * step: a write reads back, a read-modify-write transaction counts exactly, a watch fires, the
 * guest's own node holds what it wrote. Each step must finish within {@link #STEP_LIMIT_MS}.
 */
final class WellBehavedClient implements Runnable {
    static final long STEP_LIMIT_MS = 2000;
    private static final int MAX_REPORTED = 10;

    private final XenStore dom0;
    private final XenStore guest;
    private final String dir;
    private final long deadline;
    private final List<String> failures = Collections.synchronizedList(new ArrayList<>());
    private volatile long rounds;
    private volatile long slowestMs;

    /** {@code dir}: dom0's directory for the checks; the guest uses its home's {@code value}. */
    WellBehavedClient(XenStore dom0, XenStore guest, String dir, long deadlineNanos) {
        this.dom0 = dom0;
        this.guest = guest;
        this.dir = dir;
        this.deadline = deadlineNanos;
    }

    long rounds() {
        return rounds;
    }

    long slowestMs() {
        return slowestMs;
    }

    List<String> failures() {
        return List.copyOf(failures);
    }

    @Override
    public void run() {
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        dom0.write(dir + "/counter", "0");
        dom0.write(dir + "/w", "");
        try (XsWatch watch = dom0.watch(dir + "/w", "well-behaved", (path, token) -> events.add(path))) {
            take(events, "the watch's first event");
            long committed = 0;
            for (long i = 0; System.nanoTime() < deadline && failures.size() < MAX_REPORTED; i++) {
                long round = i;
                step("dom0 write and read back", () -> {
                    dom0.write(dir + "/value", "v" + round);
                    expect("dom0 read", dom0.read(dir + "/value"), "v" + round);
                });
                step("guest write and read back", () -> {
                    guest.write("value", "g" + round);
                    expect("guest read", guest.read("value"), "g" + round);
                });
                if (step("transaction", this::increment)) {
                    committed++;
                }
                long expected = committed;
                step("counter", () -> expect("counter", dom0.read(dir + "/counter"), Long.toString(expected)));
                step("watch", () -> {
                    events.clear();
                    dom0.write(dir + "/w", Long.toString(round));
                    take(events, "the event of write " + round);
                });
                rounds = i + 1;
            }
        } catch (RuntimeException e) {
            failures.add("setting up: " + e);
        }
    }

    /** Read-modify-write of the counter; {@link XenStore#transaction} retries on EAGAIN. */
    private void increment() {
        dom0.transaction(tx -> {
            long n = Long.parseLong(tx.read(dir + "/counter"));
            tx.write(dir + "/counter", Long.toString(n + 1));
            return null;
        });
    }

    private boolean step(String what, Runnable body) {
        long start = System.nanoTime();
        try {
            body.run();
        } catch (RuntimeException e) {
            failures.add(what + ": " + e);
            return false;
        }
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        slowestMs = Math.max(slowestMs, ms);
        if (ms > STEP_LIMIT_MS) {
            failures.add(what + " took " + ms + " ms");
        }
        return true;
    }

    private static void expect(String what, String actual, String expected) {
        if (!expected.equals(actual)) {
            throw new IllegalStateException(what + " gave '" + actual + "', expected '" + expected + "'");
        }
    }

    private static void take(BlockingQueue<String> events, String what) {
        try {
            if (events.poll(STEP_LIMIT_MS, TimeUnit.MILLISECONDS) == null) {
                throw new IllegalStateException("no watch event: " + what);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted waiting for " + what);
        }
    }
}
