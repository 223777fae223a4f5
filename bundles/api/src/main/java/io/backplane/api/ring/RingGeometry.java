package io.backplane.api.ring;

/**
 * Where a shared ring keeps its four indexes and its slots, in bytes from the start of the mapped
 * ring. ring.h's layout has the indexes at 0, 4, 8, 12 and one slot array of union entries at 64;
 * other layouts (indexes on separate cache lines, cache-aligned slots, separate request and
 * response arrays) are other values of this record, not other ring code.
 *
 * @param entries        slots per direction, a power of two
 * @param bytes          bytes of shared memory the ring spans (whole pages)
 * @param describe       short name for logs and {@code pv:devices}, e.g. {@code ring.h/1 page/256x12}
 */
public record RingGeometry(int entries, int bytes,
                           int requestProducerOffset, int requestEventOffset,
                           int responseProducerOffset, int responseEventOffset,
                           int requestSlotsOffset, int requestSlotStride,
                           int responseSlotsOffset, int responseSlotStride,
                           String describe) {
    public RingGeometry {
        if (entries <= 0 || Integer.bitCount(entries) != 1) {
            throw new IllegalArgumentException("ring entries must be a power of two, not " + entries);
        }
    }
}
