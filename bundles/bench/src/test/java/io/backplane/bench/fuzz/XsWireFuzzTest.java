package io.backplane.bench.fuzz;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A bounded fuzz run in the suite (the long one is {@code ./backplane bench fuzz --seconds N}):
 * the daemon survives, the well-behaved clients get every answer right and in time, and the log
 * stays small because lines about misbehaving clients are rate-limited per source.
 */
class XsWireFuzzTest {
    @Test
    void fuzzedSocketsLeaveTheWellBehavedClientsServedAndTheLogSmall() throws Exception {
        long seed = Long.getLong("fuzz.seed", System.nanoTime());
        XsWireFuzz.Result r = XsWireFuzz.run(Duration.ofSeconds(8), seed);
        assertThat(r.failures()).as("seed " + seed).isEmpty();
        assertThat(r.frames()).as("frames sent").isGreaterThan(1000);
        assertThat(r.rounds()).as("well-behaved rounds").isGreaterThan(20);
        // 3 fuzzed sources, 5 lines each per 10 s: one interval, plus the next line's count
        assertThat(r.warnings()).as("warnings logged").isLessThanOrEqualTo(3 * 5 * 2);
    }
}
