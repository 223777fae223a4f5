package io.backplane.blkback;

import java.util.Map;

/**
 * What this vbd offers its frontend, as the negotiation published it in the backend directory:
 * the limits the frontend's keys are checked against and the operations the data path accepts.
 */
record VbdFeatures(int maxRingPageOrder, int maxQueues, int maxIndirectSegments, boolean persistent,
                   boolean flushCache, boolean barrier, boolean discard, boolean discardSecure) {

    /** Linux blkback's MAX_INDIRECT_SEGMENTS: the most it ever accepts, whatever is asked. */
    static final int LINUX_MAX_INDIRECT_SEGMENTS = 256;
    /** XENBUS_MAX_RING_GRANT_ORDER: rings of at most 16 pages. */
    static final int XENBUS_MAX_RING_GRANT_ORDER = 4;

    /**
     * From the published offer; {@code discardEnabled} is libxl's {@code discard-enable} (a
     * discard on a read-only vbd is refused by the access check, as Linux's xen_vbd_translate).
     */
    static VbdFeatures of(Map<String, String> offer, boolean discardEnabled) {
        return new VbdFeatures(
                clamp(number(offer, "max-ring-page-order", 0), 0, XENBUS_MAX_RING_GRANT_ORDER),
                Math.max(1, number(offer, "multi-queue-max-queues", 1)),
                clamp(number(offer, "feature-max-indirect-segments", 0), 0, LINUX_MAX_INDIRECT_SEGMENTS),
                number(offer, "feature-persistent", 0) == 1,
                number(offer, "feature-flush-cache", 1) == 1,
                number(offer, "feature-barrier", 1) == 1,
                discardEnabled && number(offer, "feature-discard", 1) == 1,
                false);
    }

    private static int number(Map<String, String> offer, String key, int otherwise) {
        String v = offer.get(key);
        if (v == null) {
            return otherwise;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            return otherwise;
        }
    }

    private static int clamp(int v, int min, int max) {
        return Math.max(min, Math.min(max, v));
    }
}
