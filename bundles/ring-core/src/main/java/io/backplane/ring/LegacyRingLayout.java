package io.backplane.ring;

import io.backplane.ring.layout.SharedRingDescriptor;

/**
 * The geometry of ring.h's {@code struct <name>_sring}: the four indexes at 0, 4, 8, 12 in one
 * 64-byte header, then one array of union entries shared by requests and responses, as many as
 * fit in the given bytes rounded down to a power of two. Spread over several contiguous pages,
 * it is the multi-page ring of blkif's {@code ring-page-order}.
 */
public final class LegacyRingLayout implements RingLayout {

    private static final int[] ZEROED = {
        SharedRingDescriptor.PVT_OFFSET, SharedRingDescriptor.PVT_LENGTH,
        SharedRingDescriptor.PAD_OFFSET, SharedRingDescriptor.PAD_LENGTH,
    };

    private final int bytes;
    private final int entryLength;
    private final int entries;

    private LegacyRingLayout(int bytes, int entryLength) {
        this.entries = SharedRingDescriptor.entryCount(bytes, entryLength);
        this.bytes = bytes;
        this.entryLength = entryLength;
    }

    /** A ring in {@code bytes} of shared memory with entries of {@code entryLength} bytes (__RING_SIZE). */
    public static LegacyRingLayout of(int bytes, int entryLength) {
        return new LegacyRingLayout(bytes, entryLength);
    }

    /** A ring over {@code pages} contiguous Xen pages (1 for the classic single-page ring). */
    public static LegacyRingLayout ofPages(int pages, int entryLength) {
        if (pages <= 0) {
            throw new IllegalArgumentException("a ring needs at least one page, not " + pages);
        }
        return new LegacyRingLayout(Math.multiplyExact(pages, SharedRingDescriptor.XEN_PAGE_SIZE), entryLength);
    }

    public int entryLength() {
        return entryLength;
    }

    @Override
    public int entries() {
        return entries;
    }

    @Override
    public int bytes() {
        return bytes;
    }

    @Override
    public int requestProducerOffset() {
        return SharedRingDescriptor.REQ_PROD_OFFSET;
    }

    @Override
    public int requestEventOffset() {
        return SharedRingDescriptor.REQ_EVENT_OFFSET;
    }

    @Override
    public int responseProducerOffset() {
        return SharedRingDescriptor.RSP_PROD_OFFSET;
    }

    @Override
    public int responseEventOffset() {
        return SharedRingDescriptor.RSP_EVENT_OFFSET;
    }

    @Override
    public int requestSlotsOffset() {
        return SharedRingDescriptor.ENTRIES_OFFSET;
    }

    @Override
    public int requestSlotStride() {
        return entryLength;
    }

    @Override
    public int responseSlotsOffset() {
        return SharedRingDescriptor.ENTRIES_OFFSET;
    }

    @Override
    public int responseSlotStride() {
        return entryLength;
    }

    @Override
    public int[] zeroedOnInit() {
        return ZEROED.clone();
    }

    @Override
    public String describe() {
        String size = bytes % SharedRingDescriptor.XEN_PAGE_SIZE == 0
                ? (bytes / SharedRingDescriptor.XEN_PAGE_SIZE) + (bytes == SharedRingDescriptor.XEN_PAGE_SIZE ? " page" : " pages")
                : bytes + " bytes";
        return "ring.h/" + size + "/" + entries + "x" + entryLength;
    }

    @Override
    public String toString() {
        return describe();
    }
}
