package io.backplane.ring.map;

import io.backplane.api.backend.XenbusKeys;

/**
 * What a frontend asked for with {@code request-unmap-batch = "<count>,<max delay ms>"}: unmap
 * once {@code count} mappings wait, or once the oldest has waited {@code maxDelayMillis}.
 */
record UnmapBatch(int count, int maxDelayMillis) {
    static final int MAX_COUNT = BatchedUnmapSegments.MAX_DEFERRED;
    static final int MAX_DELAY_MILLIS = 1000;

    /** Unmaps at the end of every batch: what the strategy does when nobody asked. */
    static final UnmapBatch EVERY_BATCH = new UnmapBatch(1, 0);

    /** The frontend's value, or null when it is not {@code count,delay} with count 1..256 and delay 0..1000. */
    static UnmapBatch parse(String value) {
        if (value == null) {
            return null;
        }
        String[] parts = value.trim().split(",");
        if (parts.length != 2) {
            return null;
        }
        try {
            int count = Integer.parseInt(parts[0].trim());
            int delay = Integer.parseInt(parts[1].trim());
            return count >= 1 && count <= MAX_COUNT && delay >= 0 && delay <= MAX_DELAY_MILLIS ? new UnmapBatch(count, delay) : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    static UnmapBatch of(java.util.Map<String, String> features) {
        return parse(features.get(XenbusKeys.REQUEST_UNMAP_BATCH));
    }
}
