package io.backplane.netback;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/** Per-queue counters for {@code pv:show}, named as netback's ethtool statistics are. */
final class QueueStats {
    final AtomicLong txPackets = new AtomicLong();
    final AtomicLong txBytes = new AtomicLong();
    /** TX packets answered with an error (too many slots, bad size, refused grant). */
    final AtomicLong txErrors = new AtomicLong();
    final AtomicLong rxPackets = new AtomicLong();
    final AtomicLong rxBytes = new AtomicLong();
    /** Frames for the guest that could not be delivered (backlog full, too big without feature-sg). */
    final AtomicLong rxDropped = new AtomicLong();
    final AtomicLong rxErrors = new AtomicLong();

    void putInto(Map<String, String> out, String prefix) {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("tx-packets", txPackets.get());
        m.put("tx-bytes", txBytes.get());
        m.put("tx-errors", txErrors.get());
        m.put("rx-packets", rxPackets.get());
        m.put("rx-bytes", rxBytes.get());
        m.put("rx-dropped", rxDropped.get());
        m.put("rx-errors", rxErrors.get());
        m.forEach((k, v) -> out.put(prefix + k, Long.toString(v)));
    }
}
