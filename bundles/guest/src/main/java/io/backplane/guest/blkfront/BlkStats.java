package io.backplane.guest.blkfront;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a blkfront did, as tests and operators read it from {@code device/vbd/N/stats/}: every
 * request sent is answered exactly once (OKAY, ERROR or EOPNOTSUPP), re-issued requests are
 * counted once, and every byte read back is checked. Written by the frontend's thread only.
 */
public final class BlkStats {
    volatile long sent;
    volatile long answered;
    volatile long okay;
    volatile long failed;
    volatile long unsupported;
    volatile long reads;
    volatile long writes;
    volatile long flushes;
    volatile long discards;
    volatile long sectorsRead;
    volatile long sectorsWritten;
    volatile long verifiedSectors;
    volatile long mismatches;
    volatile long reconnects;
    volatile long reissued;
    /** {@link #sent} when the frontend last reconnected: shows where in the workload it happened. */
    volatile long sentAtReconnect;
    volatile String phase = "connecting";
    /** Milliseconds from the first connect to the end of the workload (or to now while it runs). */
    volatile long elapsedMillis;

    public long sent() {
        return sent;
    }

    public long answered() {
        return answered;
    }

    public long failed() {
        return failed;
    }

    public long mismatches() {
        return mismatches;
    }

    public long verifiedSectors() {
        return verifiedSectors;
    }

    public long reconnects() {
        return reconnects;
    }

    public String phase() {
        return phase;
    }

    /** The keys written under {@code stats/}. */
    public Map<String, String> asMap() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("phase", phase);
        m.put("sent", Long.toString(sent));
        m.put("answered", Long.toString(answered));
        m.put("okay", Long.toString(okay));
        m.put("failed", Long.toString(failed));
        m.put("eopnotsupp", Long.toString(unsupported));
        m.put("reads", Long.toString(reads));
        m.put("writes", Long.toString(writes));
        m.put("flushes", Long.toString(flushes));
        m.put("discards", Long.toString(discards));
        m.put("sectors-read", Long.toString(sectorsRead));
        m.put("sectors-written", Long.toString(sectorsWritten));
        m.put("verified-sectors", Long.toString(verifiedSectors));
        m.put("mismatches", Long.toString(mismatches));
        m.put("reconnects", Long.toString(reconnects));
        m.put("reissued", Long.toString(reissued));
        m.put("sent-at-reconnect", Long.toString(sentAtReconnect));
        m.put("elapsed-ms", Long.toString(elapsedMillis));
        return m;
    }

    @Override
    public String toString() {
        return asMap().toString();
    }
}
