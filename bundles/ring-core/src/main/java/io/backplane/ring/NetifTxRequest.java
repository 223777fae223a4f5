package io.backplane.ring;

import io.backplane.ring.layout.NetifTxRequestDescriptor;
import java.nio.ByteBuffer;

/** A local copy of a {@code netif_tx_request}; u16 fields are held as unsigned ints. */
public final class NetifTxRequest implements RingEntry {
    public int gref;
    public int offset;
    public int flags;
    public int id;
    public int size;

    @Override
    public void readFrom(ByteBuffer shared, int slot) {
        gref = shared.getInt(slot + NetifTxRequestDescriptor.GREF_OFFSET);
        offset = Short.toUnsignedInt(shared.getShort(slot + NetifTxRequestDescriptor.OFFSET_OFFSET));
        flags = Short.toUnsignedInt(shared.getShort(slot + NetifTxRequestDescriptor.FLAGS_OFFSET));
        id = Short.toUnsignedInt(shared.getShort(slot + NetifTxRequestDescriptor.ID_OFFSET));
        size = Short.toUnsignedInt(shared.getShort(slot + NetifTxRequestDescriptor.SIZE_OFFSET));
    }

    @Override
    public void writeTo(ByteBuffer shared, int slot) {
        shared.putInt(slot + NetifTxRequestDescriptor.GREF_OFFSET, gref);
        shared.putShort(slot + NetifTxRequestDescriptor.OFFSET_OFFSET, (short) offset);
        shared.putShort(slot + NetifTxRequestDescriptor.FLAGS_OFFSET, (short) flags);
        shared.putShort(slot + NetifTxRequestDescriptor.ID_OFFSET, (short) id);
        shared.putShort(slot + NetifTxRequestDescriptor.SIZE_OFFSET, (short) size);
    }

    @Override
    public String toString() {
        return "netif_tx_request{gref=" + Integer.toUnsignedString(gref) + ", offset=" + offset + ", flags=" + flags
                + ", id=" + id + ", size=" + size + "}";
    }
}
