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
    /** TX packets with a partial checksum (NETTXF_csum_blank), and with a GSO extra. */
    final AtomicLong txCsumBlank = new AtomicLong();
    final AtomicLong txGso = new AtomicLong();
    /** TX packets handed to the sink from the guest's pages in place (a zero-copy strategy lent them). */
    final AtomicLong txZeroCopy = new AtomicLong();
    /** RX frames read from the sink straight into the guest's pages and answered there (a strategy lent them). */
    final AtomicLong rxZeroCopy = new AtomicLong();
    /** RX frames read into the guest's pages that had to be copied out and delivered by the copy path (offloads done here). */
    final AtomicLong rxZeroCopySpilled = new AtomicLong();
    /** TX packets dropped because their checksum or GSO could not be set up (Linux: rx_errors on the vif). */
    final AtomicLong txOffloadDropped = new AtomicLong();
    /** RX frames given to the guest with a partial checksum, and with a GSO extra. */
    final AtomicLong rxCsumBlank = new AtomicLong();
    final AtomicLong rxGso = new AtomicLong();
    /** RX checksums completed here and GSO frames segmented here, for a frontend that did not take them. */
    final AtomicLong rxChecksumsCompleted = new AtomicLong();
    final AtomicLong rxSegmented = new AtomicLong();

    void putInto(Map<String, String> out, String prefix) {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("tx-packets", txPackets.get());
        m.put("tx-bytes", txBytes.get());
        m.put("tx-errors", txErrors.get());
        m.put("rx-packets", rxPackets.get());
        m.put("rx-bytes", rxBytes.get());
        m.put("rx-dropped", rxDropped.get());
        m.put("rx-errors", rxErrors.get());
        m.put("tx-csum-blank", txCsumBlank.get());
        m.put("tx-gso", txGso.get());
        m.put("tx-zero-copy", txZeroCopy.get());
        m.put("tx-offload-dropped", txOffloadDropped.get());
        m.put("rx-csum-blank", rxCsumBlank.get());
        m.put("rx-gso", rxGso.get());
        m.put("rx-csum-completed", rxChecksumsCompleted.get());
        m.put("rx-segmented", rxSegmented.get());
        m.put("rx-zero-copy", rxZeroCopy.get());
        m.put("rx-zero-copy-spilled", rxZeroCopySpilled.get());
        m.forEach((k, v) -> out.put(prefix + k, Long.toString(v)));
    }
}
