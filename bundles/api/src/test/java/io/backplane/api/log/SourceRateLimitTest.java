package io.backplane.api.log;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class SourceRateLimitTest {
    private final AtomicLong now = new AtomicLong();
    private final SourceRateLimit limit = new SourceRateLimit(3, Duration.ofSeconds(10), now::get);

    private List<String> admitted(String source, int lines) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < lines; i++) {
            String s = limit.admit(source, source + " line " + i);
            if (s != null) {
                out.add(s);
            }
        }
        return out;
    }

    @Test
    void aBurstPerSourceThenTheCountOfWhatWasHeldBackOnTheNextLine() {
        assertThat(admitted("domain 3", 1237)).containsExactly("domain 3 line 0", "domain 3 line 1", "domain 3 line 2");
        assertThat(admitted("domain 4", 2)).hasSize(2); // another source is not held back by domain 3
        now.addAndGet(Duration.ofSeconds(10).toNanos());
        assertThat(admitted("domain 3", 5)).containsExactly(
                "domain 3 line 0 (and 1234 more like it from domain 3 in the last 10 s)",
                "domain 3 line 1", "domain 3 line 2");
        now.addAndGet(Duration.ofSeconds(25).toNanos());
        assertThat(admitted("domain 3", 1)).containsExactly(
                "domain 3 line 0 (and 2 more like it from domain 3 in the last 25 s)");
        now.addAndGet(Duration.ofSeconds(11).toNanos());
        assertThat(admitted("domain 3", 1)).containsExactly("domain 3 line 0");
    }

    @Test
    void manySourcesAreRememberedBoundedly() {
        for (int i = 0; i < 5000; i++) {
            assertThat(limit.admit("client " + i, "x")).isEqualTo("x");
        }
    }
}
