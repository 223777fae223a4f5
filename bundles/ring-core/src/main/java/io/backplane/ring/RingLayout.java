package io.backplane.ring;

/**
 * Where a shared ring keeps its four indexes and its slots inside the shared buffer. The ring
 * protocol (FrontRing, BackRing) reads only this, so other geometries (indexes on separate cache
 * lines, cache-aligned slots, separate request and response slot arrays) are new implementations,
 * not new ring classes. Slots are linear: slot {@code i} of the requests starts at
 * {@code requestSlotsOffset() + (i & (entries() - 1)) * requestSlotStride()}; likewise responses.
 * All offsets are in bytes from the start of the shared buffer, indexes are u32 aligned to 4.
 */
public interface RingLayout {

    /** Number of slots: a power of two, so a free-running index is masked with {@code entries() - 1}. */
    int entries();

    /** Bytes the shared buffer must have at least. */
    int bytes();

    int requestProducerOffset();

    int requestEventOffset();

    int responseProducerOffset();

    int responseEventOffset();

    int requestSlotsOffset();

    int requestSlotStride();

    int responseSlotsOffset();

    int responseSlotStride();

    /**
     * Byte ranges outside the indexes and slots that ring initialisation must zero (SHARED_RING_INIT
     * clears the private bytes and the padding), as {@code {offset, length}} pairs.
     */
    int[] zeroedOnInit();

    /** A short name for logs and benchmarks, e.g. {@code ring.h/1 page/256x12}. */
    String describe();
}
