package io.backplane.guest.blkfront;

import io.backplane.ring.RingShape;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * blkfront's own limits (Linux xen-blkfront's module parameters) and the workload it runs, from
 * a {@code key=value,key=value} string ({@code GuestMain --vbd ...} or the frontend's
 * {@code backplane-workload} key).
 *
 * @param maxRingPageOrder  own ring order limit (Linux {@code max_ring_page_order})
 * @param maxQueues         own queue limit (Linux {@code max_queues}, default the CPUs)
 * @param maxIndirectSegments own indirect segment limit (Linux {@code max_indirect_segments}, 32); 0 = none
 * @param persistent        {@code feature_persistent}
 * @param ops               requests of the random phase; 0 = none, -1 = until stopped
 * @param depth             requests in flight at most, over all queues
 * @param minSectors        smallest read/write, in 512-byte sectors
 * @param maxSectors        largest read/write; above 88 sectors (11 pages) needs indirect segments
 * @param read              weight of reads in the random phase
 * @param write             weight of writes
 * @param flush             weight of flushes (only when the backend offers feature-flush-cache)
 * @param discard           weight of discards (only when the backend offers feature-discard)
 * @param region            sectors of the disk the workload uses, from 0 (capped by the disk)
 * @param fill              write the whole region once (version 1) before the random phase, then flush
 * @param verify            read the whole region back after the random phase and check every byte
 * @param seed              the random phase's seed
 * @param reconnect         reconnect after the backend closes (unless the toolstack set online=0)
 * @param layouts           the ring layout features it knows (it takes those the backend offers too);
 *                          none by default, as a Linux blkfront
 * @param unmapBatch        {@code COUNT:DELAY_MS}: ask the backend to batch its unmaps (written as
 *                          {@code request-unmap-batch = "COUNT,DELAY_MS"}); empty = not asked
 */
public record BlkfrontOptions(int maxRingPageOrder, int maxQueues, int maxIndirectSegments, boolean persistent,
                              long ops, int depth, int minSectors, int maxSectors,
                              int read, int write, int flush, int discard,
                              long region, boolean fill, boolean verify, long seed, boolean reconnect,
                              RingShape layouts, String unmapBatch) {

    public static final String HELP = "vbd workload: key=value,... with ring-order (own max, 2), queues (own max, CPUs),"
            + " indirect (own max indirect segments, 32), persistent (1), ops (random requests, -1 = until stopped, 1000),"
            + " depth (in flight, 16), min-sectors (1), max-sectors (64), read/write/flush/discard (weights 45/45/5/5),"
            + " region (sectors used, 16384), fill (0/1, 1), verify (0/1, 1), seed (1), reconnect (0/1, 1),"
            + " layout (ring layout features it knows: split-indexes+aligned-slots+separate-rings, all, none; none),"
            + " unmap-batch (COUNT:DELAY_MS: ask the backend to batch unmaps; none)";

    public BlkfrontOptions {
        if (maxRingPageOrder < 0 || maxRingPageOrder > 4) {
            throw new IllegalArgumentException("ring-order " + maxRingPageOrder + " outside 0..4");
        }
        if (maxQueues < 1 || depth < 1 || minSectors < 1 || maxSectors < minSectors || region < 1) {
            throw new IllegalArgumentException("queues, depth, min-sectors and region must be at least 1, max-sectors at least min-sectors");
        }
        if (maxIndirectSegments < 0 || maxIndirectSegments > 4096) {
            throw new IllegalArgumentException("indirect " + maxIndirectSegments + " outside 0..4096");
        }
        if (read < 0 || write < 0 || flush < 0 || discard < 0) {
            throw new IllegalArgumentException("weights cannot be negative");
        }
    }

    public static BlkfrontOptions defaults() {
        return parse("");
    }

    /** Parses {@code key=value,...}; unknown keys and bad numbers are refused with the key named. */
    public static BlkfrontOptions parse(String spec) {
        Map<String, String> kv = new LinkedHashMap<>();
        kv.put("ring-order", "2");
        kv.put("queues", Integer.toString(Runtime.getRuntime().availableProcessors()));
        kv.put("indirect", "32");
        kv.put("persistent", "1");
        kv.put("ops", "1000");
        kv.put("depth", "16");
        kv.put("min-sectors", "1");
        kv.put("max-sectors", "64");
        kv.put("read", "45");
        kv.put("write", "45");
        kv.put("flush", "5");
        kv.put("discard", "5");
        kv.put("region", "16384");
        kv.put("fill", "1");
        kv.put("verify", "1");
        kv.put("seed", "1");
        kv.put("reconnect", "1");
        kv.put("layout", "none");
        kv.put("unmap-batch", "");
        if (spec != null && !spec.isBlank()) {
            for (String item : spec.split(",")) {
                int eq = item.indexOf('=');
                String key = eq < 0 ? item.trim() : item.substring(0, eq).trim();
                if (eq < 0 || !kv.containsKey(key)) {
                    throw new IllegalArgumentException("bad vbd workload item '" + item + "'; " + HELP);
                }
                kv.put(key, item.substring(eq + 1).trim());
            }
        }
        return new BlkfrontOptions(num(kv, "ring-order"), num(kv, "queues"), num(kv, "indirect"), num(kv, "persistent") == 1,
                num(kv, "ops"), num(kv, "depth"), num(kv, "min-sectors"), num(kv, "max-sectors"),
                num(kv, "read"), num(kv, "write"), num(kv, "flush"), num(kv, "discard"),
                num(kv, "region"), num(kv, "fill") == 1, num(kv, "verify") == 1, num(kv, "seed"), num(kv, "reconnect") == 1,
                layouts(kv.get("layout")), unmapBatch(kv.get("unmap-batch")));
    }

    private static String unmapBatch(String spec) {
        if (spec.isEmpty() || spec.equals("none")) {
            return "";
        }
        if (!spec.matches("[0-9]{1,3}:[0-9]{1,4}")) {
            throw new IllegalArgumentException("vbd workload: unmap-batch '" + spec + "' is not COUNT:DELAY_MS");
        }
        return spec;
    }

    private static RingShape layouts(String spec) {
        try {
            return RingShape.parse(spec);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("vbd workload: layout: " + e.getMessage());
        }
    }

    private static int num(Map<String, String> kv, String key) {
        try {
            return Integer.parseInt(kv.get(key));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("vbd workload: " + key + " wants a number, not '" + kv.get(key) + "'");
        }
    }
}
