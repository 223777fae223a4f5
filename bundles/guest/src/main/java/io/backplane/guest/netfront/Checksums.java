package io.backplane.guest.netfront;

/**
 * The Internet checksum (RFC 1071) and the header parsing netfront needs to send and check
 * UDP and TCP over IPv4 and IPv6, on byte arrays in network byte order, allocating nothing.
 *
 * <p>Offloaded frames carry in the L4 checksum field what a Linux CHECKSUM_PARTIAL skb carries
 * (the netif {@code NETTXF_csum_blank} / {@code NETRXF_csum_blank} contract): the folded sum of
 * the pseudo-header, not complemented ({@code ~csum_tcpudp_magic(saddr, daddr, len, proto, 0)}),
 * so whoever completes it sums the L4 header and payload from the checksum start and stores the
 * complement at checksum start + checksum offset (16 for TCP, 6 for UDP).
 */
public final class Checksums {
    public static final int ETH_HLEN = 14;
    public static final int ETHERTYPE_IPV4 = 0x0800;
    public static final int ETHERTYPE_IPV6 = 0x86DD;
    public static final int PROTO_TCP = 6;
    public static final int PROTO_UDP = 17;
    public static final int TCP_CSUM_OFFSET = 16;
    public static final int UDP_CSUM_OFFSET = 6;

    private Checksums() {
    }

    /** The one's-complement sum of {@code len} bytes at {@code off} added to {@code initial}, not folded. */
    public static long sum(byte[] b, int off, int len, long initial) {
        long s = initial;
        int end = off + (len & ~1);
        for (int i = off; i < end; i += 2) {
            s += ((b[i] & 0xFF) << 8) | (b[i + 1] & 0xFF);
        }
        if ((len & 1) != 0) {
            s += (b[off + len - 1] & 0xFF) << 8;
        }
        return s;
    }

    /** Folds a sum to 16 bits (carries added back), not complemented. */
    public static int fold(long sum) {
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) sum;
    }

    /** The Internet checksum of {@code len} bytes: {@code ~fold(sum)}. */
    public static int checksum(byte[] b, int off, int len) {
        return ~fold(sum(b, off, len, 0)) & 0xFFFF;
    }

    public static int u16(byte[] b, int at) {
        return ((b[at] & 0xFF) << 8) | (b[at + 1] & 0xFF);
    }

    public static void put16(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 8);
        b[at + 1] = (byte) v;
    }

    public static void put32(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }

    public static long u32(byte[] b, int at) {
        return ((long) u16(b, at) << 16) | u16(b, at + 2);
    }

    /** Stores the IPv4 header checksum of the header at {@code ip} (its field zeroed first). */
    public static void putIpv4HeaderChecksum(byte[] b, int ip) {
        int ihl = (b[ip] & 0x0F) * 4;
        put16(b, ip + 10, 0);
        put16(b, ip + 10, checksum(b, ip, ihl));
    }

    /**
     * The unfolded sum of the pseudo-header of the IPv4 or IPv6 packet at {@code ip} (its
     * version nibble says which) for an L4 segment of {@code l4Len} bytes of protocol {@code proto}.
     */
    public static long pseudoHeaderSum(byte[] b, int ip, int proto, int l4Len) {
        long s = proto + (long) l4Len;
        if ((b[ip] & 0xF0) == 0x40) {
            return sum(b, ip + 12, 8, s);                 // source and destination addresses
        }
        return sum(b, ip + 8, 32, s + (l4Len >>> 16));    // IPv6: 32-bit length; addresses
    }

    /**
     * Writes what a CHECKSUM_PARTIAL frame carries in its L4 checksum field: the folded
     * pseudo-header sum, not complemented.
     */
    public static void putPartial(byte[] b, int ip, int proto, int l4, int l4Len) {
        put16(b, l4 + csumOffset(proto), fold(pseudoHeaderSum(b, ip, proto, l4Len)));
    }

    /** Writes the full L4 checksum (pseudo-header included), as a stack without offload does. */
    public static void putFull(byte[] b, int ip, int proto, int l4, int l4Len) {
        int at = l4 + csumOffset(proto);
        put16(b, at, 0);
        int c = ~fold(sum(b, l4, l4Len, pseudoHeaderSum(b, ip, proto, l4Len))) & 0xFFFF;
        put16(b, at, c == 0 && proto == PROTO_UDP ? 0xFFFF : c);   // UDP: 0 means "no checksum"
    }

    /**
     * Completes a csum_blank segment as a NIC (or skb_checksum_help) does: sums the L4 bytes from
     * the checksum start, the field holding the pseudo-header sum, and stores the complement.
     * Nothing is checked: a field that did not hold the pseudo-header sum gives a wrong checksum,
     * which {@link #l4Valid} then refuses.
     */
    public static void complete(byte[] b, int proto, int l4, int l4Len) {
        int c = ~fold(sum(b, l4, l4Len, 0)) & 0xFFFF;
        put16(b, l4 + csumOffset(proto), c == 0 && proto == PROTO_UDP ? 0xFFFF : c);
    }

    /** True when the L4 checksum, pseudo-header included, is correct (UDP over IPv4 may carry 0: none). */
    public static boolean l4Valid(byte[] b, int ip, int proto, int l4, int l4Len) {
        if (proto == PROTO_UDP && (b[ip] & 0xF0) == 0x40 && u16(b, l4 + UDP_CSUM_OFFSET) == 0) {
            return true;
        }
        return fold(sum(b, l4, l4Len, pseudoHeaderSum(b, ip, proto, l4Len))) == 0xFFFF;
    }

    public static boolean ipv4HeaderValid(byte[] b, int ip) {
        return fold(sum(b, ip, (b[ip] & 0x0F) * 4, 0)) == 0xFFFF;
    }

    public static int csumOffset(int proto) {
        return proto == PROTO_TCP ? TCP_CSUM_OFFSET : UDP_CSUM_OFFSET;
    }

    /**
     * The headers of an Ethernet frame carrying UDP or TCP over IPv4 or IPv6 (no IPv6 extension
     * headers, no IPv4 fragments): a caller-owned, reusable result of {@link #parse}.
     */
    public static final class L4 {
        /** 4 or 6. */
        public int version;
        public int ip;
        public int proto;
        public int l4;
        public int l4Len;
        /** Bytes of L4 header (TCP data offset, 8 for UDP). */
        public int l4HeaderLen;

        public int payload() {
            return l4 + l4HeaderLen;
        }

        public int payloadLen() {
            return l4Len - l4HeaderLen;
        }

        /**
         * Parses {@code b[0, len)}; true when it is a well-formed UDP or TCP frame (lengths
         * consistent, Ethernet padding allowed after the IP packet).
         */
        public boolean parse(byte[] b, int len) {
            if (len < ETH_HLEN + 20) {
                return false;
            }
            int type = u16(b, 12);
            ip = ETH_HLEN;
            int ipEnd;
            if (type == ETHERTYPE_IPV4 && (b[ip] & 0xF0) == 0x40) {
                version = 4;
                int ihl = (b[ip] & 0x0F) * 4;
                int total = u16(b, ip + 2);
                if (ihl < 20 || total < ihl || ip + total > len || (u16(b, ip + 6) & 0x3FFF) != 0) {
                    return false;                      // short, or a fragment
                }
                proto = b[ip + 9] & 0xFF;
                l4 = ip + ihl;
                ipEnd = ip + total;
            } else if (type == ETHERTYPE_IPV6 && (b[ip] & 0xF0) == 0x60 && len >= ETH_HLEN + 40) {
                version = 6;
                proto = b[ip + 6] & 0xFF;
                l4 = ip + 40;
                ipEnd = l4 + u16(b, ip + 4);
                if (ipEnd > len) {
                    return false;
                }
            } else {
                return false;
            }
            l4Len = ipEnd - l4;
            if (proto == PROTO_UDP) {
                l4HeaderLen = 8;
                return l4Len >= 8 && u16(b, l4 + 4) == l4Len;
            }
            if (proto == PROTO_TCP) {
                if (l4Len < 20) {
                    return false;
                }
                l4HeaderLen = ((b[l4 + 12] & 0xF0) >>> 4) * 4;
                return l4HeaderLen >= 20 && l4HeaderLen <= l4Len;
            }
            return false;
        }
    }
}
