package io.backplane.netback;

import io.backplane.api.ring.RingGeometry;
import io.backplane.ring.RingLayout;

/**
 * ring-core's view of the geometry a strategy reported for a mapped ring. The backend never
 * initialises a ring (the frontend did), so nothing is zeroed on init.
 */
record GeometryLayout(RingGeometry geometry) implements RingLayout {

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

    @Override
    public int[] zeroedOnInit() {
        return new int[0];
    }

    @Override
    public String describe() {
        return geometry.describe();
    }
}
