package io.backplane.runtime.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A frontend simulator's counters ({@code device/<type>/<devid>/stats/}) at one instant, and what
 * two samples say: packets/s and MB/s for a vif (netfront), IOPS and MB/s for a vbd (blkfront),
 * and whether any request failed or went unanswered.
 */
record TrafficSample(DemoDevice device, long nanos, Map<String, String> stats) {

    long get(String key) {
        String v = stats.get(key);
        if (v == null || v.isEmpty()) {
            return 0;
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    boolean has(String key) {
        return stats.containsKey(key);
    }

    /** Requests answered so far: transmitted packets answered plus packets received, or block requests answered. */
    long operations() {
        return device.type().equals("vif") ? get("tx-answered") + get("rx-received") : get("answered");
    }

    /** Bytes moved so far, or -1 when the frontend does not count them. */
    long bytes() {
        if (device.type().equals("vif")) {
            return has("tx-bytes") ? get("tx-bytes") + get("rx-bytes") : -1;
        }
        return (get("sectors-read") + get("sectors-written")) * 512;
    }

    /** Throughput between {@code earlier} and this sample, in operator words. */
    String rateSince(TrafficSample earlier) {
        double seconds = Math.max(1e-3, (nanos - earlier.nanos) / 1e9);
        long ops = operations() - earlier.operations();
        long bytes = bytes() < 0 || earlier.bytes() < 0 ? -1 : bytes() - earlier.bytes();
        String mb = bytes < 0 ? "MB/s not counted" : String.format("%.1f MB/s", bytes / seconds / 1e6);
        if (device.type().equals("vif")) {
            return String.format("%s: %,.0f packets/s, %s (%,d TX answered, %,d RX received in %.1f s)",
                    device.name(), ops / seconds, mb, get("tx-answered") - earlier.get("tx-answered"),
                    get("rx-received") - earlier.get("rx-received"), seconds);
        }
        return String.format("%s: %,.0f IOPS, %s (%,d requests: %,d reads, %,d writes, %,d flushes, %,d discards in %.1f s)",
                device.name(), ops / seconds, mb, ops, get("reads") - earlier.get("reads"),
                get("writes") - earlier.get("writes"), get("flushes") - earlier.get("flushes"),
                get("discards") - earlier.get("discards"), seconds);
    }

    /** What went wrong according to the frontend: failed, bad or unanswered requests. Empty when nothing did. */
    List<String> problems() {
        List<String> p = new ArrayList<>();
        if (device.type().equals("vif")) {
            nonZero(p, "tx-failed", "transmitted packets answered with an error");
            nonZero(p, "rx-bad", "received packets that failed the byte check");
            long unanswered = get("tx-sent") - get("tx-answered");
            if (unanswered != 0) {
                p.add(unanswered + " transmitted packets never answered (tx-sent " + get("tx-sent") + ", tx-answered "
                        + get("tx-answered") + ")");
            }
        } else {
            nonZero(p, "failed", "block requests answered with BLKIF_RSP_ERROR");
            nonZero(p, "mismatches", "sectors read back different from what was written");
            long unanswered = get("sent") - get("answered");
            if (unanswered != 0) {
                p.add(unanswered + " block requests never answered (sent " + get("sent") + ", answered " + get("answered") + ")");
            }
        }
        return p;
    }

    private void nonZero(List<String> p, String key, String meaning) {
        if (get(key) != 0) {
            p.add(get(key) + " " + meaning + " (" + key + ")");
        }
    }
}
