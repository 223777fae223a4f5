package io.backplane.api.log;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * Rate limit for log lines caused by a source outside dom0's control (a guest domain, a socket
 * client): at most {@code burst} lines per source in each {@code interval}; the first line let
 * through after some were held back says how many, e.g. {@code "... (and 1234 more like it from
 * domain 3 in the last 10 s)"}. A misbehaving guest cannot flood the operator log, and the
 * operator still learns that it kept misbehaving. Thread-safe; one instance per component.
 */
public final class SourceRateLimit {
    /** What a component uses unless it has a reason not to: 5 lines per source per 10 s. */
    public static final int DEFAULT_BURST = 5;
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(10);
    /** Sources remembered at once; the least recently heard is forgotten first. */
    static final int MAX_SOURCES = 1024;

    private final int burst;
    private final long intervalNanos;
    private final LongSupplier nanoClock;
    private final Map<String, Window> windows = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Window> eldest) {
            return size() > MAX_SOURCES;
        }
    };

    /** One source's current interval: when it began, lines let through and held back in it. */
    private static final class Window {
        long start;
        int logged;
        long suppressed;
        /** Held back in earlier intervals, not yet reported. */
        long unreported;
        long unreportedSince;
    }

    public SourceRateLimit() {
        this(DEFAULT_BURST, DEFAULT_INTERVAL, System::nanoTime);
    }

    public SourceRateLimit(int burst, Duration interval, LongSupplier nanoClock) {
        if (burst < 1 || interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("burst " + burst + " and interval " + interval + " must be positive");
        }
        this.burst = burst;
        this.intervalNanos = interval.toNanos();
        this.nanoClock = Objects.requireNonNull(nanoClock);
    }

    /**
     * The line to log for {@code source} (named as the operator knows it: "domain 3",
     * "control client 7"), with the count of held-back lines appended when there are any; or
     * null when this line is to be held back.
     */
    public synchronized String admit(String source, String line) {
        long now = nanoClock.getAsLong();
        Window w = windows.get(source);
        if (w == null) {
            w = new Window();
            w.start = now;
            windows.put(source, w);
        } else if (now - w.start >= intervalNanos) {
            if (w.suppressed > 0) {
                if (w.unreported == 0) {
                    w.unreportedSince = w.start;
                }
                w.unreported += w.suppressed;
            }
            w.start = now;
            w.logged = 0;
            w.suppressed = 0;
        }
        if (w.logged >= burst) {
            w.suppressed++;
            return null;
        }
        w.logged++;
        if (w.unreported == 0) {
            return line;
        }
        String out = line + " (and " + w.unreported + " more like it from " + source + " in the last "
                + seconds(now - w.unreportedSince) + " s)";
        w.unreported = 0;
        return out;
    }

    private static long seconds(long nanos) {
        return Math.max(1, Math.round(nanos / 1e9));
    }
}
