package io.backplane.netback;

/**
 * The vif's transmit rate limit, netback's credit scheduler: {@code bytes} of credit every
 * {@code usecs}, from the backend's {@code rate} key ("bytes,usecs", what libxl writes for xl's
 * {@code rate=10Mb/s}). A packet waits while it exceeds the remaining credit; credit accumulates
 * up to max(128 KiB, bytes) so one big packet always gets through (tx_add_credit).
 */
final class Credit {
    private static final long MAX_BURST_MIN = 131072;

    private final long bytes;
    private final long periodNanos;
    private long remaining;
    private long nextRefill;
    private volatile long waits;

    private Credit(long bytes, long usecs) {
        this.bytes = bytes;
        this.periodNanos = usecs * 1000;
        this.remaining = bytes;
        this.nextRefill = System.nanoTime() + periodNanos;
    }

    /** Unlimited: what netback does without a {@code rate} key or with one it cannot parse. */
    static Credit unlimited() {
        return new Credit(Long.MAX_VALUE, 0);
    }

    static Credit of(long bytes, long usecs) {
        return bytes <= 0 || usecs <= 0 ? unlimited() : new Credit(bytes, usecs);
    }

    boolean limited() {
        return bytes != Long.MAX_VALUE;
    }

    /** Takes {@code size} bytes of credit if there is enough (refilling when a period passed); false to wait. */
    boolean take(int size) {
        if (!limited()) {
            return true;
        }
        if (size > remaining) {
            long now = System.nanoTime();
            if (now - nextRefill >= 0) {
                remaining = Math.min(remaining + bytes, Math.max(MAX_BURST_MIN, bytes));
                nextRefill = now + periodNanos;
            }
            if (size > remaining) {
                waits++;
                return false;
            }
        }
        remaining -= size;
        return true;
    }

    /** Nanoseconds until more credit comes; 0 when unlimited or due. */
    long waitNanos() {
        return limited() ? Math.max(0, nextRefill - System.nanoTime()) : 0;
    }

    /** How often a packet had to wait for credit. */
    long waits() {
        return waits;
    }

    String describe() {
        return limited() ? bytes + " bytes per " + periodNanos / 1000 + " us" : "unlimited";
    }
}
