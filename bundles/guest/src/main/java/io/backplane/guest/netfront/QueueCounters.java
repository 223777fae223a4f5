package io.backplane.guest.netfront;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/** What one netfront queue sent, had answered, failed, received and verified. */
final class QueueCounters {
    final AtomicLong txSent = new AtomicLong();
    final AtomicLong txAnswered = new AtomicLong();
    final AtomicLong txFailed = new AtomicLong();
    final AtomicLong rxReceived = new AtomicLong();
    final AtomicLong rxVerified = new AtomicLong();
    final AtomicLong rxBad = new AtomicLong();
    final AtomicLong arpReplies = new AtomicLong();
    final AtomicLong icmpReplies = new AtomicLong();

    Map<String, Long> snapshot() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("tx-sent", txSent.get());
        m.put("tx-answered", txAnswered.get());
        m.put("tx-failed", txFailed.get());
        m.put("rx-received", rxReceived.get());
        m.put("rx-verified", rxVerified.get());
        m.put("rx-bad", rxBad.get());
        m.put("arp-replies", arpReplies.get());
        m.put("icmp-replies", icmpReplies.get());
        return m;
    }
}
