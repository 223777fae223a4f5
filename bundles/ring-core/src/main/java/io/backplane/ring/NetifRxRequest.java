package io.backplane.ring;

import io.backplane.ring.layout.NetifRxRequestDescriptor;
import java.nio.ByteBuffer;

/** A local copy of a {@code netif_rx_request}. */
public final class NetifRxRequest implements RingEntry {
    /** u16, echoed in the response. */
    public int id;
    public int gref;

    @Override
    public void readFrom(ByteBuffer shared, int slot) {
        id = Short.toUnsignedInt(shared.getShort(slot + NetifRxRequestDescriptor.ID_OFFSET));
        gref = shared.getInt(slot + NetifRxRequestDescriptor.GREF_OFFSET);
    }

    @Override
    public void writeTo(ByteBuffer shared, int slot) {
        shared.putShort(slot + NetifRxRequestDescriptor.ID_OFFSET, (short) id);
        shared.putShort(slot + NetifRxRequestDescriptor.PAD_OFFSET, (short) 0);
        shared.putInt(slot + NetifRxRequestDescriptor.GREF_OFFSET, gref);
    }

    @Override
    public String toString() {
        return "netif_rx_request{id=" + id + ", gref=" + Integer.toUnsignedString(gref) + "}";
    }
}
