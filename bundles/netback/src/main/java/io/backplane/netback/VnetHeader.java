package io.backplane.netback;

import static io.backplane.ring.layout.NetifConstants.NETTXF_CSUM_BLANK;
import static io.backplane.ring.layout.NetifConstants.NETTXF_DATA_VALIDATED;
import static io.backplane.ring.layout.NetifConstants.XEN_NETIF_GSO_TYPE_NONE;
import static io.backplane.ring.layout.NetifConstants.XEN_NETIF_GSO_TYPE_TCPV4;
import static io.backplane.ring.layout.NetifConstants.XEN_NETIF_GSO_TYPE_TCPV6;
import static io.backplane.ring.layout.VirtioNetHdrDescriptor.CSUM_OFFSET_OFFSET;
import static io.backplane.ring.layout.VirtioNetHdrDescriptor.CSUM_START_OFFSET;
import static io.backplane.ring.layout.VirtioNetHdrDescriptor.FLAGS_OFFSET;
import static io.backplane.ring.layout.VirtioNetHdrDescriptor.GSO_SIZE_OFFSET;
import static io.backplane.ring.layout.VirtioNetHdrDescriptor.GSO_TYPE_OFFSET;
import static io.backplane.ring.layout.VirtioNetHdrDescriptor.HDR_LEN_OFFSET;
import static io.backplane.ring.layout.VirtioNetHdrDescriptor.LENGTH;
import static io.backplane.ring.layout.VirtioNetHdrDescriptor.VIRTIO_NET_HDR_F_DATA_VALID;
import static io.backplane.ring.layout.VirtioNetHdrDescriptor.VIRTIO_NET_HDR_F_NEEDS_CSUM;
import static io.backplane.ring.layout.VirtioNetHdrDescriptor.VIRTIO_NET_HDR_GSO_NONE;
import static io.backplane.ring.layout.VirtioNetHdrDescriptor.VIRTIO_NET_HDR_GSO_TCPV4;
import static io.backplane.ring.layout.VirtioNetHdrDescriptor.VIRTIO_NET_HDR_GSO_TCPV6;

import java.nio.ByteBuffer;

/**
 * Reads and writes the {@code virtio_net_hdr} in front of each frame crossing a sink, and turns
 * a netif TX packet's flags and GSO extra into one, as Linux netback's xenvif_tx_submit() and
 * checksum_setup() turn them into an skb: {@code NETTXF_csum_blank} becomes a partial checksum
 * whose start and offset come from the packet's own headers, {@code NETTXF_data_validated} a
 * validated one, a GSO extra the GSO type, size and header length. Little-endian fields (x86,
 * as the TAP's virtio header is in the host's order for a non-virtio-1.0 device).
 */
final class VnetHeader {
    static final int SIZE = LENGTH;

    private final FrameHeaders headers = new FrameHeaders();

    /**
     * Writes the header at {@code hdr} for the frame of {@code length} bytes that follows it.
     * False when the frame asks for a checksum or segmentation that cannot be set up (not TCP
     * or UDP, truncated headers, GSO type against the IP version): Linux drops those packets
     * ("Can't setup checksum in net_tx_action").
     */
    boolean fromTx(ByteBuffer b, int hdr, int length, int txFlags, int xenGsoType, int gsoSize) {
        int frame = hdr + SIZE;
        clear(b, hdr);
        boolean gso = xenGsoType != XEN_NETIF_GSO_TYPE_NONE;
        if ((txFlags & NETTXF_CSUM_BLANK) != 0 || gso) {
            if (!headers.parse(b, frame, length)) {
                return false;
            }
            if (gso) {
                int want = headers.ipVersion == 4 ? XEN_NETIF_GSO_TYPE_TCPV4 : XEN_NETIF_GSO_TYPE_TCPV6;
                if (headers.l4Proto != FrameHeaders.IPPROTO_TCP || xenGsoType != want) {
                    return false;
                }
                b.put(hdr + GSO_TYPE_OFFSET, (byte) (headers.ipVersion == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6));
                putU16(b, hdr + HDR_LEN_OFFSET, headers.l4 + headers.l4HeaderLength);
                putU16(b, hdr + GSO_SIZE_OFFSET, gsoSize);
                if ((txFlags & NETTXF_CSUM_BLANK) == 0) {
                    // A GSO packet without csum_blank: netback makes it partial and recalculates
                    // the pseudo-header sum (rx_gso_checksum_fixup).
                    FrameHeaders.putU16(b, frame + headers.l4 + headers.csumOffset(),
                            InetChecksum.pseudoHeader(b, frame, headers, headers.l4Length(b, frame)));
                }
            }
            b.put(hdr + FLAGS_OFFSET, (byte) VIRTIO_NET_HDR_F_NEEDS_CSUM);
            putU16(b, hdr + CSUM_START_OFFSET, headers.l4);
            putU16(b, hdr + CSUM_OFFSET_OFFSET, headers.csumOffset());
        } else if ((txFlags & NETTXF_DATA_VALIDATED) != 0) {
            b.put(hdr + FLAGS_OFFSET, (byte) VIRTIO_NET_HDR_F_DATA_VALID);
        }
        return true;
    }

    /** A header saying nothing: a frame with a complete checksum, not to be segmented. */
    static void clear(ByteBuffer b, int hdr) {
        for (int i = 0; i < SIZE; i++) {
            b.put(hdr + i, (byte) 0);
        }
    }

    static int flags(ByteBuffer b, int hdr) {
        return b.get(hdr + FLAGS_OFFSET) & 0xFF;
    }

    static int gsoType(ByteBuffer b, int hdr) {
        return b.get(hdr + GSO_TYPE_OFFSET) & 0xFF;
    }

    static int gsoSize(ByteBuffer b, int hdr) {
        return u16(b, hdr + GSO_SIZE_OFFSET);
    }

    static int csumStart(ByteBuffer b, int hdr) {
        return u16(b, hdr + CSUM_START_OFFSET);
    }

    static int csumOffset(ByteBuffer b, int hdr) {
        return u16(b, hdr + CSUM_OFFSET_OFFSET);
    }


    static boolean isGso(ByteBuffer b, int hdr) {
        return (gsoType(b, hdr) & ~0x80) != VIRTIO_NET_HDR_GSO_NONE;
    }

    private static int u16(ByteBuffer b, int at) {
        return (b.get(at) & 0xFF) | (b.get(at + 1) & 0xFF) << 8;
    }

    private static void putU16(ByteBuffer b, int at, int v) {
        b.put(at, (byte) v);
        b.put(at + 1, (byte) (v >>> 8));
    }
}
