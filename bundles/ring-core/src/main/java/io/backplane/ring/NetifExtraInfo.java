package io.backplane.ring;

import io.backplane.ring.layout.NetifExtraInfoDescriptor;
import java.nio.ByteBuffer;

/**
 * A local copy of a {@code netif_extra_info} slot: type, flags and the 6-byte union kept raw;
 * the accessors decode the union as the type says (gso, mcast, hash).
 */
public final class NetifExtraInfo implements RingEntry {
    /** u8, XEN_NETIF_EXTRA_TYPE_*. */
    public int type;
    /** u8, XEN_NETIF_EXTRA_FLAG_*. */
    public int flags;
    /** The union {@code u}, copied byte for byte. */
    public final byte[] u = new byte[NetifExtraInfoDescriptor.U_LENGTH];

    @Override
    public void readFrom(ByteBuffer shared, int slot) {
        type = Byte.toUnsignedInt(shared.get(slot + NetifExtraInfoDescriptor.TYPE_OFFSET));
        flags = Byte.toUnsignedInt(shared.get(slot + NetifExtraInfoDescriptor.FLAGS_OFFSET));
        shared.get(slot + NetifExtraInfoDescriptor.U_OFFSET, u);
    }

    @Override
    public void writeTo(ByteBuffer shared, int slot) {
        shared.put(slot + NetifExtraInfoDescriptor.TYPE_OFFSET, (byte) type);
        shared.put(slot + NetifExtraInfoDescriptor.FLAGS_OFFSET, (byte) flags);
        shared.put(slot + NetifExtraInfoDescriptor.U_OFFSET, u);
    }

    /** {@code u.gso.size}. */
    public int gsoSize() {
        return unionU16(NetifExtraInfoDescriptor.GSO_SIZE_OFFSET);
    }

    /** {@code u.gso.type}: XEN_NETIF_GSO_TYPE_*. */
    public int gsoType() {
        return Byte.toUnsignedInt(u[NetifExtraInfoDescriptor.GSO_TYPE_OFFSET - NetifExtraInfoDescriptor.U_OFFSET]);
    }

    /** {@code u.gso.features}. */
    public int gsoFeatures() {
        return unionU16(NetifExtraInfoDescriptor.GSO_FEATURES_OFFSET);
    }

    /** Sets the union to {@code u.gso} with the given size and type, features 0. */
    public NetifExtraInfo gso(int size, int gsoType) {
        java.util.Arrays.fill(u, (byte) 0);
        int base = NetifExtraInfoDescriptor.U_OFFSET;
        u[NetifExtraInfoDescriptor.GSO_SIZE_OFFSET - base] = (byte) size;
        u[NetifExtraInfoDescriptor.GSO_SIZE_OFFSET - base + 1] = (byte) (size >>> 8);
        u[NetifExtraInfoDescriptor.GSO_TYPE_OFFSET - base] = (byte) gsoType;
        return this;
    }

    /** {@code u.mcast.addr} as a 48-bit MAC address, first byte most significant. */
    public long mcastAddress() {
        long mac = 0;
        for (int i = 0; i < NetifExtraInfoDescriptor.MCAST_ADDR_LENGTH; i++) {
            mac = mac << 8 | Byte.toUnsignedLong(u[NetifExtraInfoDescriptor.MCAST_ADDR_OFFSET - NetifExtraInfoDescriptor.U_OFFSET + i]);
        }
        return mac;
    }

    private int unionU16(int fieldOffset) {
        int i = fieldOffset - NetifExtraInfoDescriptor.U_OFFSET;
        return Byte.toUnsignedInt(u[i]) | Byte.toUnsignedInt(u[i + 1]) << 8;
    }

    @Override
    public String toString() {
        return "netif_extra_info{type=" + type + ", flags=" + flags + "}";
    }
}
