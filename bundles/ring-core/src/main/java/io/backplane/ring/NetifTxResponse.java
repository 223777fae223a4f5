package io.backplane.ring;

import io.backplane.ring.layout.NetifTxResponseDescriptor;
import java.nio.ByteBuffer;

/** A local copy of a {@code netif_tx_response}. */
public final class NetifTxResponse implements RingEntry {
    /** u16, the request's id. */
    public int id;
    /** s16, NETIF_RSP_*. */
    public int status;

    @Override
    public void readFrom(ByteBuffer shared, int slot) {
        id = Short.toUnsignedInt(shared.getShort(slot + NetifTxResponseDescriptor.ID_OFFSET));
        status = shared.getShort(slot + NetifTxResponseDescriptor.STATUS_OFFSET);
    }

    @Override
    public void writeTo(ByteBuffer shared, int slot) {
        shared.putShort(slot + NetifTxResponseDescriptor.ID_OFFSET, (short) id);
        shared.putShort(slot + NetifTxResponseDescriptor.STATUS_OFFSET, (short) status);
    }

    @Override
    public String toString() {
        return "netif_tx_response{id=" + id + ", status=" + status + "}";
    }
}
