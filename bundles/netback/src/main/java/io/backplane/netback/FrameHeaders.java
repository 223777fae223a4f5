package io.backplane.netback;

import java.nio.ByteBuffer;

/**
 * Where the headers of one Ethernet frame lie, as Linux's skb_checksum_setup() finds them:
 * Ethernet (one 802.1Q tag allowed), IPv4 or IPv6 (hop-by-hop, routing and destination options
 * skipped), then TCP or UDP. Reused per frame; {@link #parse} answers whether the frame is a
 * TCP or UDP packet whose checksum netback can place.
 */
final class FrameHeaders {
    static final int ETH_HLEN = 14;
    static final int ETH_P_IP = 0x0800;
    static final int ETH_P_IPV6 = 0x86DD;
    private static final int ETH_P_8021Q = 0x8100;
    static final int IPPROTO_TCP = 6;
    static final int IPPROTO_UDP = 17;
    private static final int IPV6_HLEN = 40;
    /** TCP checksum at offset 16 of its header, UDP's at 6 (csum_offset). */
    static final int TCP_CSUM_OFFSET = 16;
    static final int UDP_CSUM_OFFSET = 6;

    /** 4 or 6. */
    int ipVersion;
    /** Offsets from the frame's start. */
    int l3;
    int l4;
    int l4Proto;
    /** TCP's data offset in bytes, 8 for UDP. */
    int l4HeaderLength;

    /** The L4 checksum field's offset from the L4 header. */
    int csumOffset() {
        return l4Proto == IPPROTO_TCP ? TCP_CSUM_OFFSET : UDP_CSUM_OFFSET;
    }

    /** Bytes of L4 header and payload as the IP header counts them. */
    int l4Length(ByteBuffer f, int start) {
        if (ipVersion == 4) {
            return u16(f, start + l3 + 2) - (l4 - l3);
        }
        return u16(f, start + l3 + 4) - (l4 - l3 - IPV6_HLEN);
    }

    /** True for a TCP or UDP packet over IPv4 (not a fragment) or IPv6 that fits in {@code length}. */
    boolean parse(ByteBuffer f, int start, int length) {
        int at = ETH_HLEN;
        if (length < at) {
            return false;
        }
        int type = u16(f, start + 12);
        if (type == ETH_P_8021Q) {
            if (length < at + 4) {
                return false;
            }
            type = u16(f, start + 16);
            at += 4;
        }
        l3 = at;
        if (type == ETH_P_IP) {
            if (length < at + 20 || (f.get(start + at) & 0xF0) != 0x40) {
                return false;
            }
            int ihl = (f.get(start + at) & 0x0F) * 4;
            // MF set or a fragment offset: the L4 header is not (all) here.
            if (ihl < 20 || (u16(f, start + at + 6) & 0x3FFF) != 0) {
                return false;
            }
            ipVersion = 4;
            l4Proto = f.get(start + at + 9) & 0xFF;
            at += ihl;
        } else if (type == ETH_P_IPV6) {
            if (length < at + IPV6_HLEN || (f.get(start + at) & 0xF0) != 0x60) {
                return false;
            }
            ipVersion = 6;
            int next = f.get(start + at + 6) & 0xFF;
            at += IPV6_HLEN;
            // Extension headers skb_checksum_setup_ipv6() walks: hop-by-hop, routing, destination options.
            while (next == 0 || next == 43 || next == 60) {
                if (length < at + 8) {
                    return false;
                }
                int len = ((f.get(start + at + 1) & 0xFF) + 1) * 8;
                next = f.get(start + at) & 0xFF;
                at += len;
            }
            l4Proto = next;
        } else {
            return false;
        }
        l4 = at;
        if (l4Proto == IPPROTO_TCP) {
            if (length < at + 20) {
                return false;
            }
            l4HeaderLength = ((f.get(start + at + 12) & 0xF0) >>> 4) * 4;
            return l4HeaderLength >= 20 && length >= at + l4HeaderLength;
        }
        if (l4Proto == IPPROTO_UDP) {
            l4HeaderLength = 8;
            return length >= at + 8;
        }
        return false;
    }

    /** Network byte order, whatever the buffer's own order (TxPath's batch is little-endian). */
    static int u16(ByteBuffer f, int at) {
        return (f.get(at) & 0xFF) << 8 | (f.get(at + 1) & 0xFF);
    }

    static void putU16(ByteBuffer f, int at, int v) {
        f.put(at, (byte) (v >>> 8));
        f.put(at + 1, (byte) v);
    }

    static long u32(ByteBuffer f, int at) {
        return (long) u16(f, at) << 16 | u16(f, at + 2);
    }

    static void putU32(ByteBuffer f, int at, long v) {
        putU16(f, at, (int) (v >>> 16));
        putU16(f, at + 2, (int) v);
    }
}
