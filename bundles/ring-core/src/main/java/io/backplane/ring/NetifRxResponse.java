package io.backplane.ring;

import io.backplane.ring.layout.NetifRxResponseDescriptor;
import java.nio.ByteBuffer;

/** A local copy of a {@code netif_rx_response}. */
public final class NetifRxResponse implements RingEntry {
    /** u16, the request's id. */
    public int id;
    /** u16, where the data starts in the granted page. */
    public int offset;
    /** u16, NETRXF_*. */
    public int flags;
    /** s16, bytes received if positive, else NETIF_RSP_*. */
    public int status;

    @Override
    public void readFrom(ByteBuffer shared, int slot) {
        id = Short.toUnsignedInt(shared.getShort(slot + NetifRxResponseDescriptor.ID_OFFSET));
        offset = Short.toUnsignedInt(shared.getShort(slot + NetifRxResponseDescriptor.OFFSET_OFFSET));
        flags = Short.toUnsignedInt(shared.getShort(slot + NetifRxResponseDescriptor.FLAGS_OFFSET));
        status = shared.getShort(slot + NetifRxResponseDescriptor.STATUS_OFFSET);
    }

    @Override
    public void writeTo(ByteBuffer shared, int slot) {
        shared.putShort(slot + NetifRxResponseDescriptor.ID_OFFSET, (short) id);
        shared.putShort(slot + NetifRxResponseDescriptor.OFFSET_OFFSET, (short) offset);
        shared.putShort(slot + NetifRxResponseDescriptor.FLAGS_OFFSET, (short) flags);
        shared.putShort(slot + NetifRxResponseDescriptor.STATUS_OFFSET, (short) status);
    }

    @Override
    public String toString() {
        return "netif_rx_response{id=" + id + ", offset=" + offset + ", flags=" + flags + ", status=" + status + "}";
    }
}
