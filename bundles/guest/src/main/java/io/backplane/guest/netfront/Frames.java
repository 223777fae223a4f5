package io.backplane.guest.netfront;


/**
 * The guest's tiny network stack: builds its test frames and checks them, and answers ARP
 * requests and ICMP echo requests for its address, so the host can ping it through the vif.
 * Test frames use the local experimental EtherType 0x88B5 so no host stack acts on them:
 * {@code magic "BPNF", queue u16, seq u32, length u16}, then a pattern derived from seq.
 */
final class Frames {
    static final int ETHERTYPE_TEST = 0x88B5;
    private static final int MAGIC = 0x42504E46;   // "BPNF"
    private static final int HEADER = 14 + 12;

    private Frames() {
    }

    /** Writes the test frame (queue, seq, length) into {@code b}, allocating nothing; returns {@code length}. */
    static int testFrameInto(byte[] b, byte[] src, int queue, long seq, int length) {
        for (int i = 0; i < 6; i++) {
            b[i] = -1;
        }
        System.arraycopy(src, 0, b, 6, 6);
        Checksums.put16(b, 12, ETHERTYPE_TEST);
        Checksums.put32(b, 14, MAGIC);
        Checksums.put16(b, 18, queue);
        Checksums.put32(b, 20, (int) seq);
        Checksums.put16(b, 24, length);
        for (int i = HEADER; i < length; i++) {
            b[i] = (byte) (seq * 31 + i);
        }
        return length;
    }

    static boolean isTestFrame(byte[] f, int len) {
        return len >= HEADER && (((f[12] & 0xFF) << 8) | (f[13] & 0xFF)) == ETHERTYPE_TEST
                && (int) Checksums.u32(f, 14) == MAGIC;
    }

    /** Who sent a test frame: its source MAC and sending queue, in one number. */
    static long testFrameSender(byte[] f) {
        long mac = 0;
        for (int i = 6; i < 12; i++) {
            mac = (mac << 8) | (f[i] & 0xFF);
        }
        return (mac << 16) | Checksums.u16(f, 18);
    }

    /** The number of a test frame in its queue's sequence. */
    static long testFrameSeq(byte[] f) {
        return Checksums.u32(f, 20);
    }

    /** True when every byte of a test frame is what {@link #testFrameInto} wrote. */
    static boolean verifyTestFrame(byte[] f, int len) {
        long seq = Checksums.u32(f, 20);
        int length = Checksums.u16(f, 24);
        if (length != len) {
            return false;
        }
        for (int i = HEADER; i < len; i++) {
            if (f[i] != (byte) (seq * 31 + i)) {
                return false;
            }
        }
        return true;
    }

    /** The ARP reply to {@code f} when it asks who has {@code ip}; null otherwise. */
    static byte[] arpReply(byte[] f, int len, byte[] mac, byte[] ip) {
        if (len < 42 || f[12] != 0x08 || f[13] != 0x06 || f[20] != 0 || f[21] != 1) {
            return null;
        }
        for (int i = 0; i < 4; i++) {
            if (f[38 + i] != ip[i]) {
                return null;
            }
        }
        byte[] r = new byte[42];
        System.arraycopy(f, 6, r, 0, 6);            // to the asker
        System.arraycopy(mac, 0, r, 6, 6);
        System.arraycopy(f, 12, r, 12, 8);          // ethertype, htype, ptype, hlen, plen
        r[21] = 2;                                  // reply
        System.arraycopy(mac, 0, r, 22, 6);         // sender: us
        System.arraycopy(ip, 0, r, 28, 4);
        System.arraycopy(f, 22, r, 32, 10);         // target: the asker's MAC and IP
        return r;
    }

    /** The ICMP echo reply to {@code f} when it is an echo request to {@code ip}; null otherwise. */
    static byte[] icmpEchoReply(byte[] f, int len, byte[] ip) {
        if (len < 34 || f[12] != 0x08 || f[13] != 0x00 || (f[14] & 0xF0) != 0x40 || f[23] != 1) {
            return null;
        }
        int ihl = (f[14] & 0x0F) * 4;
        int total = ((f[16] & 0xFF) << 8) | (f[17] & 0xFF);
        if (14 + total > len || total < ihl + 8 || f[14 + ihl] != 8) {
            return null;
        }
        for (int i = 0; i < 4; i++) {
            if (f[30 + i] != ip[i]) {
                return null;
            }
        }
        byte[] r = java.util.Arrays.copyOf(f, 14 + total);
        System.arraycopy(f, 6, r, 0, 6);
        System.arraycopy(f, 0, r, 6, 6);
        System.arraycopy(f, 30, r, 26, 4);          // swap source and destination addresses
        System.arraycopy(f, 26, r, 30, 4);
        r[22] = 64;                                 // TTL
        r[24] = 0;
        r[25] = 0;
        putChecksum(r, 24, 14, ihl);
        int icmp = 14 + ihl;
        r[icmp] = 0;                                // echo reply
        r[icmp + 2] = 0;
        r[icmp + 3] = 0;
        putChecksum(r, icmp + 2, icmp, total - ihl);
        return r;
    }

    /** The Internet checksum (RFC 1071) of {@code length} bytes at {@code from}, stored at {@code at}. */
    private static void putChecksum(byte[] b, int at, int from, int length) {
        long sum = 0;
        for (int i = 0; i + 1 < length; i += 2) {
            sum += ((b[from + i] & 0xFF) << 8) | (b[from + i + 1] & 0xFF);
        }
        if ((length & 1) != 0) {
            sum += (b[from + length - 1] & 0xFF) << 8;
        }
        while ((sum >> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        int c = (int) ~sum & 0xFFFF;
        b[at] = (byte) (c >> 8);
        b[at + 1] = (byte) c;
    }

    static byte[] parseMac(String mac) {
        String[] p = mac.split(":");
        if (p.length != 6) {
            throw new IllegalArgumentException("bad MAC '" + mac + "'");
        }
        byte[] m = new byte[6];
        for (int i = 0; i < 6; i++) {
            m[i] = (byte) Integer.parseInt(p[i], 16);
        }
        return m;
    }

    /** An IPv6 literal (no host names are looked up). */
    static byte[] parseIp6(String ip) {
        if (!ip.contains(":") || !ip.matches("[0-9a-fA-F:.]+")) {
            throw new IllegalArgumentException("bad IPv6 address '" + ip + "'");
        }
        try {
            byte[] a = java.net.InetAddress.getByName(ip).getAddress();
            if (a.length != 16) {
                throw new IllegalArgumentException("bad IPv6 address '" + ip + "'");
            }
            return a;
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException("bad IPv6 address '" + ip + "'");
        }
    }

    static byte[] parseIp(String ip) {
        String[] p = ip.split("\\.");
        if (p.length != 4) {
            throw new IllegalArgumentException("bad IPv4 address '" + ip + "'");
        }
        byte[] a = new byte[4];
        for (int i = 0; i < 4; i++) {
            a[i] = (byte) Integer.parseInt(p[i]);
        }
        return a;
    }
}
