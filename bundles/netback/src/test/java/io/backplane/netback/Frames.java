package io.backplane.netback;

import java.nio.ByteBuffer;

/**
 * Test frames built and checked byte by byte, independently of netback's own checksum code:
 * Ethernet + IPv4 + UDP or TCP, with the L4 checksum either complete or partial (the pseudo-header
 * sum only, as a CHECKSUM_PARTIAL skb carries it).
 */
final class Frames {
    static final int FIN = 0x01;
    static final int SYN = 0x02;
    static final int PSH = 0x08;
    static final int ACK = 0x10;

    private Frames() {
    }

    static byte[] udp(byte[] srcMac, byte[] dstMac, byte[] srcIp, byte[] dstIp, int sport, int dport, byte[] payload,
                      boolean partial) {
        ByteBuffer b = ipv4(srcMac, dstMac, srcIp, dstIp, 17, 8 + payload.length);
        b.putShort(34, (short) sport).putShort(36, (short) dport).putShort(38, (short) (8 + payload.length));
        b.put(42, payload);
        l4Checksum(b, 40, partial);
        return b.array();
    }

    /** TCP with a 24-byte header (an MSS option of 1460 on a SYN, else a NOP-padded empty option). */
    static byte[] tcp(byte[] srcMac, byte[] dstMac, byte[] srcIp, byte[] dstIp, int sport, int dport, long seq, long ack,
                      int flags, byte[] payload, boolean partial) {
        ByteBuffer b = ipv4(srcMac, dstMac, srcIp, dstIp, 6, 24 + payload.length);
        b.putShort(34, (short) sport).putShort(36, (short) dport).putInt(38, (int) seq).putInt(42, (int) ack);
        b.put(46, (byte) (6 << 4)).put(47, (byte) flags).putShort(48, (short) 65535);
        if ((flags & SYN) != 0) {
            b.put(54, (byte) 2).put(55, (byte) 4).putShort(56, (short) 1460);
        } else {
            b.putInt(54, 0x01010101);
        }
        b.put(58, payload);
        l4Checksum(b, 50, partial);
        return b.array();
    }

    private static ByteBuffer ipv4(byte[] srcMac, byte[] dstMac, byte[] srcIp, byte[] dstIp, int proto, int l4Length) {
        ByteBuffer b = ByteBuffer.allocate(34 + l4Length);
        b.put(0, dstMac).put(6, srcMac).putShort(12, (short) 0x0800);
        b.put(14, (byte) 0x45).putShort(16, (short) (20 + l4Length)).putShort(18, (short) 1).put(22, (byte) 64)
                .put(23, (byte) proto).put(26, srcIp).put(30, dstIp);
        b.putShort(24, (short) ~sum(b, 14, 20, 0));
        return b;
    }

    private static void l4Checksum(ByteBuffer b, int at, boolean partial) {
        int l4Length = b.capacity() - 34;
        int pseudo = pseudo(b, l4Length);
        b.putShort(at, (short) (partial ? pseudo : ~sum(b, 34, l4Length, pseudo)));
    }

    static boolean ipv4HeaderVerifies(byte[] f) {
        return sum(ByteBuffer.wrap(f), 14, 20, 0) == 0xFFFF;
    }

    static boolean tcpVerifies(byte[] f) {
        ByteBuffer b = ByteBuffer.wrap(f);
        int l4Length = (b.getShort(16) & 0xFFFF) - 20;
        return sum(b, 34, l4Length, pseudo(b, l4Length)) == 0xFFFF;
    }

    private static int pseudo(ByteBuffer b, int l4Length) {
        return sum(b, 26, 8, (b.get(23) & 0xFF) + l4Length);
    }

    /** Ones' complement sum of big-endian 16-bit words, folded, plus {@code start}. */
    private static int sum(ByteBuffer b, int from, int length, int start) {
        long s = start;
        for (int i = 0; i < length; i++) {
            s += (b.get(from + i) & 0xFF) << ((i & 1) == 0 ? 8 : 0);
        }
        while (s > 0xFFFF) {
            s = (s & 0xFFFF) + (s >>> 16);
        }
        return (int) s;
    }
}
