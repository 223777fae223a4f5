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

    /** The frame size the demo's netfront sends (Ethernet's largest without jumbo frames). */
    static final int NET_FRAME_BYTES = 1514;
    /** Block requests the demo's blkfront keeps in flight. */
    static final int VBD_DEPTH = 16;
    /** TX requests one netfront queue can have in flight: a one-page ring.h TX ring holds 256. */
    private static final int NET_TX_RING_SLOTS = 256;
    /** The most queues the demo's vif has (demo.cfg asks for 2). */
    private static final int NET_MAX_QUEUES = 2;

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

    /**
     * Bytes moved so far: for a vif the frames transmitted and answered, all of the demo's
     * fixed size (netfront counts frames, not bytes); for a vbd the sectors read and written.
     */
    long bytes() {
        if (device.type().equals("vif")) {
            return get("tx-answered") * NET_FRAME_BYTES;
        }
        return (get("sectors-read") + get("sectors-written")) * 512;
    }

    /**
     * Requests the frontend may have outstanding without any being lost. For a vif that includes
     * frames still on a TX ring when a connection was torn down: netfront drops those, as Linux
     * netfront does (Ethernet promises no delivery), so each connection may leave a full ring per queue.
     */
    long inFlightLimit() {
        if (device.type().equals("vif")) {
            return (long) NET_TX_RING_SLOTS * NET_MAX_QUEUES * Math.max(1, get("connections"));
        }
        return VBD_DEPTH;
    }

    long unanswered() {
        return device.type().equals("vif") ? get("tx-sent") - get("tx-answered") : get("sent") - get("answered");
    }

    /** One line for the final check. */
    String summary() {
        if (device.type().equals("vif")) {
            return String.format("%s: %,d frames sent, %,d answered (%,d in flight or dropped at a reconnect), %d failed; %,d received, %d bad; %d connections",
                    device.name(), get("tx-sent"), get("tx-answered"), unanswered(), get("tx-failed"), get("rx-received"),
                    get("rx-bad"), get("connections"));
        }
        return String.format("%s: %,d requests sent, %,d answered (%,d in flight), %d failed; %,d sectors read back verified,"
                        + " %d mismatches; %d reconnects, %d re-issued",
                device.name(), get("sent"), get("answered"), unanswered(), get("failed"), get("verified-sectors"),
                get("mismatches"), get("reconnects"), get("reissued"));
    }

    /** Throughput between {@code earlier} and this sample, in operator words. */
    String rateSince(TrafficSample earlier) {
        double seconds = Math.max(1e-3, (nanos - earlier.nanos) / 1e9);
        long ops = operations() - earlier.operations();
        long bytes = bytes() - earlier.bytes();
        String mb = String.format("%.1f MB/s", bytes / seconds / 1e6);
        if (device.type().equals("vif")) {
            return String.format("%s: %,.0f packets/s, %s of " + NET_FRAME_BYTES + "-byte frames (%,d TX answered, %,d RX received in %.1f s)",
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
            if (unanswered() < 0 || unanswered() > inFlightLimit()) {
                p.add(unanswered() + " transmitted packets unanswered, more than the rings hold (tx-sent " + get("tx-sent")
                        + ", tx-answered " + get("tx-answered") + ")");
            }
        } else {
            nonZero(p, "failed", "block requests answered with BLKIF_RSP_ERROR");
            nonZero(p, "mismatches", "sectors read back different from what was written");
            if (unanswered() < 0 || unanswered() > inFlightLimit()) {
                p.add(unanswered() + " block requests unanswered, more than the " + VBD_DEPTH + " kept in flight (sent "
                        + get("sent") + ", answered " + get("answered") + ")");
            }
            if (get("reconnects") == 0) {
                p.add("blkfront never reconnected, so the live change was not applied to it");
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
