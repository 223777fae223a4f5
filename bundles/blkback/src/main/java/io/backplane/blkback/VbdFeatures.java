package io.backplane.blkback;

import static io.backplane.api.backend.BlkifKeys.FEATURE_BARRIER;
import static io.backplane.api.backend.BlkifKeys.FEATURE_DISCARD;
import static io.backplane.api.backend.BlkifKeys.FEATURE_FLUSH_CACHE;
import static io.backplane.api.backend.BlkifKeys.FEATURE_MAX_INDIRECT_SEGMENTS;
import static io.backplane.api.backend.XenbusKeys.FEATURE_PERSISTENT;
import static io.backplane.api.backend.XenbusKeys.MAX_RING_PAGE_ORDER;
import static io.backplane.api.backend.XenbusKeys.MULTI_QUEUE_MAX_QUEUES;

import io.backplane.ring.RingShape;
import java.util.Map;
import java.util.Set;

/**
 * What this vbd offers its frontend, as the negotiation published it in the backend directory:
 * the limits the frontend's keys are checked against and the operations the data path accepts.
 * {@link #of} is where every offered key (named in the API's XenbusKeys and BlkifKeys) is turned
 * into behaviour.
 */
record VbdFeatures(int maxRingPageOrder, int maxQueues, int maxIndirectSegments, boolean persistent,
                   boolean flushCache, boolean barrier, boolean discard, boolean discardSecure, RingShape layouts) {

    /** The offer blkback honours through a ring strategy that serves it (ring-persistent), not its own code. */
    static final String PERSISTENT = FEATURE_PERSISTENT;

    /**
     * Every key the blkback data path implements (through {@link #of}: FrontendRings checks the
     * ring order and queues, RequestChecks the operations). {@link VbdCapabilities} offers
     * exactly these, {@link #PERSISTENT} only while a strategy serves it. The ring layout features
     * ({@link RingShape}) are offered as {@link #layouts}: FrontendRings reads the frontend's choice.
     */
    static final Set<String> IMPLEMENTED = Set.of(MAX_RING_PAGE_ORDER, MULTI_QUEUE_MAX_QUEUES,
            FEATURE_MAX_INDIRECT_SEGMENTS, PERSISTENT, FEATURE_FLUSH_CACHE, FEATURE_BARRIER, FEATURE_DISCARD,
            RingShape.SPLIT_INDEXES, RingShape.ALIGNED_SLOTS, RingShape.SEPARATE_RINGS);

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
                clamp(number(offer, MAX_RING_PAGE_ORDER, 0), 0, XENBUS_MAX_RING_GRANT_ORDER),
                Math.max(1, number(offer, MULTI_QUEUE_MAX_QUEUES, 1)),
                clamp(number(offer, FEATURE_MAX_INDIRECT_SEGMENTS, 0), 0, LINUX_MAX_INDIRECT_SEGMENTS),
                number(offer, PERSISTENT, 0) == 1,
                number(offer, FEATURE_FLUSH_CACHE, 1) == 1,
                number(offer, FEATURE_BARRIER, 1) == 1,
                discardEnabled && number(offer, FEATURE_DISCARD, 1) == 1,
                false,
                RingShape.of(offer));
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
