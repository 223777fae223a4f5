package io.backplane.netback;

import java.nio.ByteBuffer;

/**
 * The Internet checksum (RFC 1071) over frames in byte buffers, and the TCP/UDP pseudo-header
 * sum that a partial checksum (Linux CHECKSUM_PARTIAL, netif's csum_blank, virtio's NEEDS_CSUM)
 * leaves in the L4 checksum field. Pure functions; buffers are read in network byte order by absolute index, whatever their own order.
 */
final class InetChecksum {
    private InetChecksum() {
    }

    /** Adds the 16-bit big-endian words of {@code [from, from + length)} to {@code sum}. */
    static long add(ByteBuffer b, int from, int length, long sum) {
        int i = from;
        int end = from + length;
        for (; i + 1 < end; i += 2) {
            sum += FrameHeaders.u16(b, i);
        }
        if (i < end) {
            sum += (b.get(i) & 0xFF) << 8;
        }
        return sum;
    }

    /** Folds a sum to 16 bits (not complemented). */
    static int fold(long sum) {
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) sum;
    }

    /**
     * The pseudo-header sum, folded and not complemented, of the frame whose headers {@code h}
     * describes, for an L4 segment of {@code l4Length} bytes: what csum_tcpudp_magic()'s
     * complement leaves in the checksum field of a partial-checksum packet.
     */
    static int pseudoHeader(ByteBuffer f, int start, FrameHeaders h, int l4Length) {
        long sum;
        if (h.ipVersion == 4) {
            sum = add(f, start + h.l3 + 12, 8, 0);
        } else {
            sum = add(f, start + h.l3 + 8, 32, 0);
        }
        sum += h.l4Proto;
        sum += l4Length;
        return fold(sum);
    }

    /**
     * Completes a partial checksum: sums from {@code csumStart} to {@code end} (the field holding
     * the pseudo-header sum) and stores the complement there, as skb_checksum_help() does. A UDP
     * checksum of 0 is sent as 0xFFFF (0 means none).
     */
    static void complete(ByteBuffer f, int csumStart, int csumAt, int end, boolean udp) {
        int c = ~fold(add(f, csumStart, end - csumStart, 0)) & 0xFFFF;
        if (c == 0 && udp) {
            c = 0xFFFF;
        }
        FrameHeaders.putU16(f, csumAt, c);
    }

    /** The IPv4 header checksum, recomputed in place. */
    static void ipv4Header(ByteBuffer f, int l3) {
        int ihl = (f.get(l3) & 0x0F) * 4;
        FrameHeaders.putU16(f, l3 + 10, 0);
        FrameHeaders.putU16(f, l3 + 10, ~fold(add(f, l3, ihl, 0)) & 0xFFFF);
    }
}
