package io.backplane.blkback;

import io.backplane.api.ring.RingGeometry;
import io.backplane.ring.RingLayout;

/**
 * The ring-core view of the geometry a strategy mapped: the backend runs ring.h's protocol at
 * whatever offsets the strategy says, never assuming the legacy layout. The frontend initialised
 * the ring, so the backend has nothing to zero.
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
