package io.backplane.guest.netfront;

import static io.backplane.guest.netfront.Checksums.ETH_HLEN;
import static io.backplane.guest.netfront.Checksums.PROTO_TCP;
import static io.backplane.guest.netfront.Checksums.PROTO_UDP;
import static io.backplane.guest.netfront.Checksums.put16;
import static io.backplane.guest.netfront.Checksums.put32;
import static io.backplane.guest.netfront.Checksums.u16;

/**
 * Builds the UDP and TCP frames (IPv4 and IPv6) of one netfront queue into a caller-owned
 * buffer and checks received ones, allocating nothing.
 *
 * <p>Flows go from the guest's address, port {@code 40000 + queue}, to the peer's, port
 * {@link #TCP_PORT} or {@link #UDP_PORT}. The byte at stream position {@code p} of a flow is
 * {@link #pattern}{@code (flow, p)}, {@code flow = srcPort ^ dstPort} (the same both ways):
 * for TCP the position of payload byte {@code i} is {@code seq + i} (sequence numbers start at 0),
 * so every segment of a GSO frame, cut anywhere, still verifies; a UDP payload starts with its
 * position as a big-endian u32, then bytes {@code i >= 4} are {@code pattern(flow, pos + i)}.
 */
public final class L4Traffic {
    public static final int TCP_PORT = 5001;
    public static final int UDP_PORT = 5002;
    public static final int SRC_PORT_BASE = 40000;

    private final byte[] mac;
    private final byte[] peerMac;
    private final byte[] ip4;
    private final byte[] peer4;
    private final byte[] ip6;
    private final byte[] peer6;
    private final int srcPort;
    private long tcpSeq4;
    private long tcpSeq6;
    private long udpPos;
    private int ipId;

    public L4Traffic(byte[] mac, byte[] peerMac, byte[] ip4, byte[] peer4, byte[] ip6, byte[] peer6, int queue) {
        this.mac = mac.clone();
        this.peerMac = peerMac.clone();
        this.ip4 = ip4.clone();
        this.peer4 = peer4.clone();
        this.ip6 = ip6.clone();
        this.peer6 = peer6.clone();
        this.srcPort = SRC_PORT_BASE + queue;
    }

    /** The payload byte at stream position {@code pos} (mod 2^32) of {@code flow}. */
    public static byte pattern(int flow, long pos) {
        long p = pos & 0xFFFFFFFFL;
        return (byte) (p * 31 + (p >>> 8) * 7 + (p >>> 16) + flow);
    }

    /** Bytes of Ethernet, IP and L4 headers. */
    public static int headers(int family, int proto) {
        return ETH_HLEN + (family == 6 ? 40 : 20) + (proto == PROTO_TCP ? 20 : 8);
    }

    /** The smallest frame {@link #udp} builds: the position (4 payload bytes) and 4 pattern bytes. */
    public static int minUdpFrame(int family) {
        return headers(family, PROTO_UDP) + 8;
    }

    /**
     * A UDP datagram filling a frame of {@code frameLen} bytes (at least {@link #minUdpFrame});
     * {@code partial}: the checksum field holds the pseudo-header sum (NETTXF_csum_blank), else
     * the full checksum. Returns the frame length.
     */
    public int udp(byte[] b, int family, int frameLen, boolean partial) {
        int len = Math.max(frameLen, minUdpFrame(family));
        int l4 = ipHeader(b, family, PROTO_UDP, len - headers(family, PROTO_UDP) + 8);
        int l4Len = len - l4;
        put16(b, l4, srcPort);
        put16(b, l4 + 2, UDP_PORT);
        put16(b, l4 + 4, l4Len);
        int flow = srcPort ^ UDP_PORT;
        long pos = udpPos;
        int p = l4 + 8;
        put32(b, p, (int) pos);
        for (int i = 4; i < l4Len - 8; i++) {
            b[p + i] = pattern(flow, pos + i);
        }
        udpPos += l4Len - 8;
        finish(b, family, PROTO_UDP, l4, l4Len, partial);
        return len;
    }

    /**
     * A TCP segment with {@code payload} bytes of the flow's stream, advancing its sequence
     * number; a payload beyond the MSS makes a GSO frame (the caller adds the extra). Returns
     * the frame length.
     */
    public int tcp(byte[] b, int family, int payload, boolean partial) {
        int l4 = ipHeader(b, family, PROTO_TCP, 20 + payload);
        long seq = family == 6 ? tcpSeq6 : tcpSeq4;
        put16(b, l4, srcPort);
        put16(b, l4 + 2, TCP_PORT);
        put32(b, l4 + 4, (int) seq);
        put32(b, l4 + 8, 0);
        b[l4 + 12] = 0x50;                    // data offset 5 words, no options
        b[l4 + 13] = 0x18;                    // PSH | ACK
        put16(b, l4 + 14, 0xFFFF);
        put16(b, l4 + 18, 0);
        int flow = srcPort ^ TCP_PORT;
        int p = l4 + 20;
        for (int i = 0; i < payload; i++) {
            b[p + i] = pattern(flow, seq + i);
        }
        if (family == 6) {
            tcpSeq6 = (seq + payload) & 0xFFFFFFFFL;
        } else {
            tcpSeq4 = (seq + payload) & 0xFFFFFFFFL;
        }
        finish(b, family, PROTO_TCP, l4, 20 + payload, partial);
        return l4 + 20 + payload;
    }

    private int ipHeader(byte[] b, int family, int proto, int l4Len) {
        System.arraycopy(peerMac, 0, b, 0, 6);
        System.arraycopy(mac, 0, b, 6, 6);
        int ip = ETH_HLEN;
        if (family == 6) {
            put16(b, 12, Checksums.ETHERTYPE_IPV6);
            put32(b, ip, 0x60000000);
            put16(b, ip + 4, l4Len);
            b[ip + 6] = (byte) proto;
            b[ip + 7] = 64;
            System.arraycopy(ip6, 0, b, ip + 8, 16);
            System.arraycopy(peer6, 0, b, ip + 24, 16);
            return ip + 40;
        }
        put16(b, 12, Checksums.ETHERTYPE_IPV4);
        b[ip] = 0x45;
        b[ip + 1] = 0;
        put16(b, ip + 2, 20 + l4Len);
        put16(b, ip + 4, ipId++ & 0xFFFF);
        put16(b, ip + 6, 0x4000);             // DF
        b[ip + 8] = 64;
        b[ip + 9] = (byte) proto;
        System.arraycopy(ip4, 0, b, ip + 12, 4);
        System.arraycopy(peer4, 0, b, ip + 16, 4);
        Checksums.putIpv4HeaderChecksum(b, ip);
        return ip + 20;
    }

    private static void finish(byte[] b, int family, int proto, int l4, int l4Len, boolean partial) {
        if (partial) {
            Checksums.putPartial(b, ETH_HLEN, proto, l4, l4Len);
        } else {
            Checksums.putFull(b, ETH_HLEN, proto, l4, l4Len);
        }
    }

    /** True when {@code h} (parsed) is one of our flows, either way. */
    public static boolean ours(byte[] b, Checksums.L4 h) {
        int sport = u16(b, h.l4);
        int dport = u16(b, h.l4 + 2);
        int svc = h.proto == PROTO_TCP ? TCP_PORT : UDP_PORT;
        return sport == svc || dport == svc;
    }

    /** True when the payload of our flow {@code h} is the flow's pattern at its stream position. */
    public static boolean payloadValid(byte[] b, Checksums.L4 h) {
        int flow = u16(b, h.l4) ^ u16(b, h.l4 + 2);
        int p = h.payload();
        int n = h.payloadLen();
        long pos;
        int from;
        if (h.proto == PROTO_TCP) {
            pos = Checksums.u32(b, h.l4 + 4);
            from = 0;
        } else {
            if (n < 4) {
                return false;
            }
            pos = Checksums.u32(b, p);
            from = 4;
        }
        for (int i = from; i < n; i++) {
            if (b[p + i] != pattern(flow, pos + i)) {
                return false;
            }
        }
        return true;
    }
}
