package io.backplane.ring;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * What both ends of a ring share: the buffer (a little-endian view of the shared pages), the
 * layout, and the accessors for the four indexes. Indexes are read and written through a
 * VarHandle so each access carries the ordering a ring.h barrier asks for; slots are read and
 * written with plain ByteBuffer accesses, ordered by the index accesses around them. Only
 * {@link FrontRing} and {@link BackRing} extend it.
 */
public abstract sealed class SharedRing permits FrontRing, BackRing {

    /** u32 view of the shared buffer, little-endian as x86 lays out RING_IDX. */
    static final VarHandle INDEX = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    final ByteBuffer shared;
    final RingLayout layout;
    final int size;
    final int mask;
    final int reqProdOffset;
    final int reqEventOffset;
    final int rspProdOffset;
    final int rspEventOffset;
    final int reqSlotsOffset;
    final int reqSlotStride;
    final int rspSlotsOffset;
    final int rspSlotStride;

    SharedRing(ByteBuffer buffer, RingLayout layout) {
        if (!buffer.isDirect()) {
            throw new IllegalArgumentException("a shared ring needs a direct (mapped) buffer");
        }
        if (buffer.isReadOnly()) {
            throw new IllegalArgumentException("a shared ring needs a writable buffer");
        }
        if (buffer.capacity() < layout.bytes()) {
            throw new IllegalArgumentException("ring " + layout.describe() + " needs " + layout.bytes()
                    + " bytes, the shared buffer has " + buffer.capacity());
        }
        int entries = layout.entries();
        if (entries <= 0 || Integer.bitCount(entries) != 1) {
            throw new IllegalArgumentException("ring size must be a power of two, not " + entries);
        }
        this.shared = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN).clear();
        this.layout = layout;
        this.size = entries;
        this.mask = entries - 1;
        this.reqProdOffset = layout.requestProducerOffset();
        this.reqEventOffset = layout.requestEventOffset();
        this.rspProdOffset = layout.responseProducerOffset();
        this.rspEventOffset = layout.responseEventOffset();
        this.reqSlotsOffset = layout.requestSlotsOffset();
        this.reqSlotStride = layout.requestSlotStride();
        this.rspSlotsOffset = layout.responseSlotsOffset();
        this.rspSlotStride = layout.responseSlotStride();
        // Fails here, not on the data path, if the buffer's address leaves an index misaligned.
        INDEX.getAcquire(shared, reqProdOffset);
        INDEX.getAcquire(shared, reqEventOffset);
        INDEX.getAcquire(shared, rspProdOffset);
        INDEX.getAcquire(shared, rspEventOffset);
    }

    /**
     * SHARED_RING_INIT: both producers 0, both event indexes 1, private bytes and padding zeroed.
     * Only the frontend initialises the shared ring, before it advertises it.
     */
    static void initShared(ByteBuffer shared, RingLayout layout) {
        int[] ranges = layout.zeroedOnInit();
        for (int r = 0; r < ranges.length; r += 2) {
            for (int b = ranges[r]; b < ranges[r] + ranges[r + 1]; b++) {
                shared.put(b, (byte) 0);
            }
        }
        INDEX.set(shared, layout.requestProducerOffset(), 0);
        INDEX.set(shared, layout.responseProducerOffset(), 0);
        INDEX.set(shared, layout.requestEventOffset(), 1);
        // A release store for the last: whoever later acquires an index sees the whole init.
        INDEX.setRelease(shared, layout.responseEventOffset(), 1);
    }

    /** RING_SIZE: number of slots. */
    public final int size() {
        return size;
    }

    public final RingLayout layout() {
        return layout;
    }

    /**
     * The shared buffer as a little-endian view, for reading and writing slot fields at the
     * offsets this ring returns (with the layout descriptors' field offsets added).
     */
    public final ByteBuffer buffer() {
        return shared;
    }

    /** Byte offset of the request slot for free-running index {@code index} (RING_GET_REQUEST). */
    public final int requestSlotOffset(int index) {
        return reqSlotsOffset + (index & mask) * reqSlotStride;
    }

    /** Byte offset of the response slot for free-running index {@code index} (RING_GET_RESPONSE). */
    public final int responseSlotOffset(int index) {
        return rspSlotsOffset + (index & mask) * rspSlotStride;
    }

    /** Distance between consecutive request slots, for callers walking a batch of slots. */
    public final int requestSlotStride() {
        return reqSlotStride;
    }

    public final int responseSlotStride() {
        return rspSlotStride;
    }

    /**
     * Slots from {@code index} to the end of the slot array: a batch split at this point walks
     * each part with a counted loop over linear offsets, which the JIT compiles best.
     */
    public final int slotsBeforeWrap(int index) {
        return size - (index & mask);
    }
}
