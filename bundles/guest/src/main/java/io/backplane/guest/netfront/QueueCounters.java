package io.backplane.guest.netfront;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/** What one netfront queue sent, had answered, failed, received and verified. */
final class QueueCounters {
    final AtomicLong txSent = new AtomicLong();
    final AtomicLong txAnswered = new AtomicLong();
    final AtomicLong txFailed = new AtomicLong();
    /** Frames still unanswered when the queue was torn down (a reconnect): lost, not failed. */
    final AtomicLong txDropped = new AtomicLong();
    final AtomicLong rxReceived = new AtomicLong();
    final AtomicLong rxVerified = new AtomicLong();
    final AtomicLong rxBad = new AtomicLong();
    /** Frames the backend answered with an error status (a negative status: dropped, Linux netfront's rx_errors). */
    final AtomicLong rxErrors = new AtomicLong();
    /** Test frames that came back twice, and those not (yet) back though a later one of their queue is ({@link TestFrameLedger}). */
    final AtomicLong rxDuplicates = new AtomicLong();
    final AtomicLong rxMissing = new AtomicLong();
    final AtomicLong arpReplies = new AtomicLong();
    final AtomicLong icmpReplies = new AtomicLong();
    /** Frames sent with NETTXF_csum_blank (pseudo-header sum in the L4 field). */
    final AtomicLong txCsumBlank = new AtomicLong();
    /** GSO frames sent (with a XEN_NETIF_EXTRA_TYPE_GSO extra). */
    final AtomicLong txGso = new AtomicLong();
    /** TCP segments the guest cut itself because GSO was not usable. */
    final AtomicLong txSegmented = new AtomicLong();
    /** UDP and TCP frames received (each also counted in rx-verified or rx-bad / rx-csum-bad). */
    final AtomicLong rxL4 = new AtomicLong();
    final AtomicLong rxCsumBlank = new AtomicLong();
    final AtomicLong rxDataValidated = new AtomicLong();
    final AtomicLong rxGso = new AtomicLong();
    /** Frames whose IPv4 header or L4 checksum was wrong (after completing a csum_blank one). */
    final AtomicLong rxCsumBad = new AtomicLong();
    /** GSO frames without NETRXF_csum_blank: checksum recomputed as Linux's checksum_setup does. */
    final AtomicLong rxGsoCsumFixup = new AtomicLong();
    /** Offloads the frontend did not advertise: a GSO extra, csum_blank or more_data it did not ask for. */
    final AtomicLong rxUnaskedOffload = new AtomicLong();

    Map<String, Long> snapshot() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("tx-sent", txSent.get());
        m.put("tx-answered", txAnswered.get());
        m.put("tx-failed", txFailed.get());
        m.put("tx-dropped", txDropped.get());
        m.put("rx-received", rxReceived.get());
        m.put("rx-verified", rxVerified.get());
        m.put("rx-bad", rxBad.get());
        m.put("rx-errors", rxErrors.get());
        m.put("rx-duplicates", rxDuplicates.get());
        m.put("rx-missing", rxMissing.get());
        m.put("arp-replies", arpReplies.get());
        m.put("icmp-replies", icmpReplies.get());
        m.put("tx-csum-blank", txCsumBlank.get());
        m.put("tx-gso", txGso.get());
        m.put("tx-segmented", txSegmented.get());
        m.put("rx-l4", rxL4.get());
        m.put("rx-csum-blank", rxCsumBlank.get());
        m.put("rx-data-validated", rxDataValidated.get());
        m.put("rx-gso", rxGso.get());
        m.put("rx-csum-bad", rxCsumBad.get());
        m.put("rx-gso-csum-fixup", rxGsoCsumFixup.get());
        m.put("rx-unasked-offload", rxUnaskedOffload.get());
        return m;
    }
}
