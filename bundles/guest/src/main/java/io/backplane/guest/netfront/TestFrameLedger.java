package io.backplane.guest.netfront;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Which test frames came back, per sender (source MAC and sending queue), for one connection:
 * each queue numbers its frames 0, 1, 2... and they come back in that order (one flow, one
 * receive queue), so a number above the highest seen leaves the ones skipped missing until they
 * turn up, and a number seen before is a duplicate. Counts into the receiving queue's {@code rx-missing} and
 * {@code rx-duplicates}; keeps only the numbers still missing.
 */
final class TestFrameLedger {
    /** The most numbers one jump may leave missing (a frame from another run would otherwise fill memory). */
    private static final long MAX_GAP = 1 << 16;

    private final Map<Long, Long> highest = new HashMap<>();
    private final Map<Long, Set<Long>> missing = new HashMap<>();

    /** {@code sender}: the frame's source MAC and sending queue, as {@link Frames#testFrameSender} gives them. */
    synchronized void saw(QueueCounters c, long sender, long seq) {
        long top = highest.getOrDefault(sender, -1L);
        Set<Long> gaps = missing.computeIfAbsent(sender, k -> new HashSet<>());
        if (seq > top) {
            long skipped = Math.min(seq - top - 1, MAX_GAP);
            for (long s = seq - skipped; s < seq; s++) {
                gaps.add(s);
            }
            c.rxMissing.addAndGet(skipped);
            highest.put(sender, seq);
        } else if (gaps.remove(seq)) {
            c.rxMissing.decrementAndGet();
        } else {
            c.rxDuplicates.incrementAndGet();
        }
    }
}
