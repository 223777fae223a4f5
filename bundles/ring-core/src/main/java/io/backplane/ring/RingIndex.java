package io.backplane.ring;

/**
 * Arithmetic on ring.h's free-running u32 indexes ({@code RING_IDX}). Java's int wraps exactly
 * as u32 does for + and -; comparisons of distances must be unsigned.
 */
public final class RingIndex {

    private RingIndex() {
    }

    /**
     * The notify decision of RING_PUSH_*_AND_CHECK_NOTIFY: the peer asked to be notified at
     * {@code event}, and publishing moved the producer from {@code oldProd} to {@code newProd};
     * notify iff event lies in (oldProd, newProd], i.e. {@code (new - event) < (new - old)} unsigned.
     */
    public static boolean needsNotify(int oldProd, int newProd, int event) {
        return Integer.compareUnsigned(newProd - event, newProd - oldProd) < 0;
    }

    /** {@code prod - cons} as an unsigned count (what RING_HAS_UNCONSUMED_* compute). */
    public static long distance(int prod, int cons) {
        return Integer.toUnsignedLong(prod - cons);
    }

    /**
     * RING_REQUEST_PROD_OVERFLOW / RING_RESPONSE_PROD_OVERFLOW: can the peer's producer
     * {@code prod} be that far ahead of {@code base} (our response producer, resp. our response
     * consumer) on a ring of {@code size} slots? True means the peer is misbehaving.
     */
    public static boolean producerOverflow(int prod, int base, int size) {
        return Integer.compareUnsigned(prod - base, size) > 0;
    }
}
