package io.backplane.ring;

import io.backplane.ring.layout.BlkifResponseDescriptor;
import java.nio.ByteBuffer;

/** A local copy of a {@code blkif_response}. */
public final class BlkifResponse implements RingEntry {
    public long id;
    /** u8, BLKIF_OP_* copied from the request. */
    public int operation;
    /** s16, BLKIF_RSP_*. */
    public int status;

    @Override
    public void readFrom(ByteBuffer shared, int slot) {
        id = shared.getLong(slot + BlkifResponseDescriptor.ID_OFFSET);
        operation = Byte.toUnsignedInt(shared.get(slot + BlkifResponseDescriptor.OPERATION_OFFSET));
        status = shared.getShort(slot + BlkifResponseDescriptor.STATUS_OFFSET);
    }

    @Override
    public void writeTo(ByteBuffer shared, int slot) {
        shared.putLong(slot + BlkifResponseDescriptor.ID_OFFSET, id);
        shared.put(slot + BlkifResponseDescriptor.OPERATION_OFFSET, (byte) operation);
        shared.put(slot + BlkifResponseDescriptor.OPERATION_OFFSET + 1, (byte) 0);
        shared.putShort(slot + BlkifResponseDescriptor.STATUS_OFFSET, (short) status);
    }

    @Override
    public String toString() {
        return "blkif_response{id=" + id + ", operation=" + operation + ", status=" + status + "}";
    }
}
