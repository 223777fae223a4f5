package io.backplane.ring.persistent;

import java.time.Duration;

/**
 * The limits of one ring's persistent grants, Linux blkback's module parameters per ring.
 *
 * @param maxGrants     {@code max_persistent_grants}: grants kept mapped per ring; segments of further
 *                      grants are grant-copied (blkback maps them for the request only)
 * @param unused        {@code persistent_grant_unused_seconds}: a grant not used for this long is unmapped
 * @param purgeInterval how often the ring's worker looks for grants to purge (blkback's LRU_INTERVAL, 100 ms)
 */
public record PersistentLimits(int maxGrants, Duration unused, Duration purgeInterval) {

    /** blkback's defaults: 1056 grants (32 requests of 11 segments... times 3), 60 s, 100 ms. */
    public static final PersistentLimits DEFAULTS = new PersistentLimits(1056, Duration.ofSeconds(60), Duration.ofMillis(100));

    public PersistentLimits {
        if (maxGrants < 0) {
            throw new IllegalArgumentException("max persistent grants must be 0 or more, not " + maxGrants);
        }
        if (unused.isNegative() || purgeInterval.isNegative()) {
            throw new IllegalArgumentException("persistent grant durations must not be negative");
        }
    }
}
