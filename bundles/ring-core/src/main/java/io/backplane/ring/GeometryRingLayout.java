package io.backplane.ring;

import io.backplane.api.ring.RingGeometry;
import io.backplane.ring.layout.SharedRingDescriptor;

/**
 * A {@link RingLayout} read from the ring-strategy SPI's {@link RingGeometry}, so a backend runs
 * {@link BackRing} on whatever ring a strategy opened without knowing which layout it is; and the
 * way back, so a strategy describes a ring-core layout as a geometry.
 */
public final class GeometryRingLayout implements RingLayout {

    private final RingGeometry geometry;

    private GeometryRingLayout(RingGeometry geometry) {
        this.geometry = geometry;
    }

    /**
     * The layout of {@code geometry}. Refuses a geometry whose indexes are not u32-aligned or whose
     * indexes or slots lie outside its bytes: the ring would read or write beyond the mapping.
     */
    public static RingLayout of(RingGeometry geometry) {
        checkIndex(geometry, "req_prod", geometry.requestProducerOffset());
        checkIndex(geometry, "req_event", geometry.requestEventOffset());
        checkIndex(geometry, "rsp_prod", geometry.responseProducerOffset());
        checkIndex(geometry, "rsp_event", geometry.responseEventOffset());
        checkSlots(geometry, "request", geometry.requestSlotsOffset(), geometry.requestSlotStride());
        checkSlots(geometry, "response", geometry.responseSlotsOffset(), geometry.responseSlotStride());
        return new GeometryRingLayout(geometry);
    }

    /** The geometry of any ring-core layout (ring.h's, split-index, ...). */
    public static RingGeometry geometry(RingLayout layout) {
        return new RingGeometry(layout.entries(), layout.bytes(),
                layout.requestProducerOffset(), layout.requestEventOffset(),
                layout.responseProducerOffset(), layout.responseEventOffset(),
                layout.requestSlotsOffset(), layout.requestSlotStride(),
                layout.responseSlotsOffset(), layout.responseSlotStride(),
                layout.describe());
    }

    /** ring.h's geometry over {@code pages} pages for the given request and response lengths. */
    public static RingGeometry legacy(int pages, int requestLength, int responseLength) {
        return geometry(LegacyRingLayout.ofPages(pages,
                SharedRingDescriptor.entryLength(requestLength, responseLength)));
    }

    private static void checkIndex(RingGeometry g, String name, int offset) {
        if (offset < 0 || offset % 4 != 0 || offset + 4 > g.bytes()) {
            throw new IllegalArgumentException(g.describe() + ": " + name + " at " + offset
                    + " is not an aligned u32 inside " + g.bytes() + " bytes");
        }
    }

    private static void checkSlots(RingGeometry g, String name, int offset, int stride) {
        long end = offset + (long) g.entries() * stride;
        if (offset < 0 || stride <= 0 || end > g.bytes()) {
            throw new IllegalArgumentException(g.describe() + ": " + g.entries() + " " + name + " slots of "
                    + stride + " bytes at " + offset + " do not fit in " + g.bytes() + " bytes");
        }
    }

    public RingGeometry geometry() {
        return geometry;
    }

    @Override
    public int entries() {
        return geometry.entries();
    }

    @Override
    public int bytes() {
        return geometry.bytes();
    }

    @Override
    public int requestProducerOffset() {
        return geometry.requestProducerOffset();
    }

    @Override
    public int requestEventOffset() {
        return geometry.requestEventOffset();
    }

    @Override
    public int responseProducerOffset() {
        return geometry.responseProducerOffset();
    }

    @Override
    public int responseEventOffset() {
        return geometry.responseEventOffset();
    }

    @Override
    public int requestSlotsOffset() {
        return geometry.requestSlotsOffset();
    }

    @Override
    public int requestSlotStride() {
        return geometry.requestSlotStride();
    }

    @Override
    public int responseSlotsOffset() {
        return geometry.responseSlotsOffset();
    }

    @Override
    public int responseSlotStride() {
        return geometry.responseSlotStride();
    }

    /**
     * Nothing: a geometry does not say which other bytes are private, and backends attach to a
     * ring the frontend initialised rather than initialising it.
     */
    @Override
    public int[] zeroedOnInit() {
        return new int[0];
    }

    @Override
    public String describe() {
        return geometry.describe();
    }

    @Override
    public String toString() {
        return describe();
    }
}
