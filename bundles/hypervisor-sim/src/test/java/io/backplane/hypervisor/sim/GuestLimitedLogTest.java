package io.backplane.hypervisor.sim;

import io.backplane.api.log.OperatorLog;
import io.backplane.api.log.SourceRateLimit;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class GuestLimitedLogTest {
    @Test
    void guestLinesAreLimitedPerDomainAndDom0LinesNever() {
        List<String> lines = new ArrayList<>();
        AtomicLong clock = new AtomicLong();
        GuestLimitedLog log = new GuestLimitedLog(OperatorLog.of(l -> lines.add("INFO " + l), l -> lines.add("WARN " + l),
                (l, cause) -> lines.add("ERROR " + l)), new SourceRateLimit(2, Duration.ofSeconds(10), clock::get));

        for (int i = 0; i < 50; i++) {
            log.guestInfo(3, "domain 3 event channel request 99 refused");
            log.guestWarn(4, "domain 4 stopped reading its event stream");
            log.warn("dom0 line " + i); // about dom0's own work: never held back
        }
        assertThat(lines).filteredOn(l -> l.contains("domain 3")).hasSize(2);
        assertThat(lines).filteredOn(l -> l.contains("domain 4")).hasSize(2).allMatch(l -> l.startsWith("WARN "));
        assertThat(lines).filteredOn(l -> l.contains("dom0 line")).hasSize(50);

        clock.addAndGet(Duration.ofSeconds(10).toNanos());
        lines.clear();
        log.guestInfo(3, "domain 3 event channel request 99 refused");
        assertThat(lines).containsExactly(
                "INFO domain 3 event channel request 99 refused (and 48 more like it from domain 3 in the last 10 s)");
    }
}
