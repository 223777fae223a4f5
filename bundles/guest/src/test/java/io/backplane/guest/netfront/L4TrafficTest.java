package io.backplane.guest.netfront;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The frame builder and verifier: full and partial checksums, and GSO frames cut into segments. */
class L4TrafficTest {
    static final byte[] MAC = {0, 0x16, 0x3e, 0, 0, 1};
    static final byte[] PEER_MAC = {(byte) 0xfe, -1, -1, -1, -1, -1};

    static L4Traffic traffic() {
        NetfrontOptions o = NetfrontOptions.parse("ip=10.0.0.2");
        return new L4Traffic(MAC, PEER_MAC, o.ip4(), o.peer4(), o.ip6Bytes(), o.peer6Bytes(), 1);
    }

    static boolean verifies(byte[] f, int len, boolean partial) {
        Checksums.L4 h = new Checksums.L4();
        if (!h.parse(f, len)) {
            return false;
        }
        if (partial) {
            Checksums.complete(f, h.proto, h.l4, h.l4Len);
        }
        boolean ip = h.version == 6 || Checksums.ipv4HeaderValid(f, h.ip);
        return ip && Checksums.l4Valid(f, h.ip, h.proto, h.l4, h.l4Len) && L4Traffic.ours(f, h) && L4Traffic.payloadValid(f, h);
    }

    @ParameterizedTest
    @ValueSource(ints = {4, 6})
    void udpFramesVerifyWithFullAndPartialChecksums(int family) {
        L4Traffic t = traffic();
        byte[] b = new byte[65536];
        for (int size : new int[] {60, 64, 512, 1514, 9000, 65535}) {
            for (boolean partial : new boolean[] {false, true}) {
                int len = t.udp(b, family, size, partial);
                assertThat(len).isEqualTo(Math.max(size, L4Traffic.minUdpFrame(family)));
                byte[] f = Arrays.copyOf(b, len);
                assertThat(verifies(f, len, partial)).as("size %d partial %s", size, partial).isTrue();
                byte[] bad = Arrays.copyOf(b, len);
                bad[len - 1] ^= 0x40;
                assertThat(verifies(bad, len, partial)).isFalse();
            }
        }
    }

    @Test
    void theFlowPatternIsCheckedNotJustTheChecksum() {
        L4Traffic t = traffic();
        byte[] b = new byte[2048];
        int len = t.tcp(b, 4, 100, false);
        Checksums.L4 h = new Checksums.L4();
        h.parse(b, len);
        b[h.payload() + 10] ^= 1;
        Checksums.putFull(b, h.ip, h.proto, h.l4, h.l4Len);       // a correct checksum over the wrong bytes
        assertThat(Checksums.l4Valid(b, h.ip, h.proto, h.l4, h.l4Len)).isTrue();
        assertThat(L4Traffic.payloadValid(b, h)).isFalse();
    }

    @ParameterizedTest
    @ValueSource(ints = {4, 6})
    void aGsoFrameCutIntoSegmentsAnywhereStillVerifies(int family) {
        L4Traffic t = traffic();
        byte[] b = new byte[65536];
        t.tcp(b, family, 1000, true);                               // the stream does not start at 0
        int payload = 65535 - L4Traffic.headers(family, Checksums.PROTO_TCP);
        int len = t.tcp(b, family, payload, true);
        assertThat(len).isEqualTo(65535);
        byte[] gso = Arrays.copyOf(b, len);
        assertThat(verifies(gso.clone(), len, true)).as("the whole GSO frame, completed").isTrue();
        for (int mss : new int[] {1460, 1000, 536}) {
            List<byte[]> segs = segment(gso, mss);
            assertThat(segs).hasSize((payload + mss - 1) / mss);
            for (byte[] s : segs) {
                assertThat(verifies(s, s.length, false)).isTrue();
            }
        }
        int next = t.tcp(b, family, 10, false);
        Checksums.L4 h = new Checksums.L4();
        h.parse(b, next);
        assertThat(Checksums.u32(b, h.l4 + 4)).isEqualTo(1000L + payload);
    }

    /** What a host's GSO does to a TCP frame: MSS-sized segments with full checksums. */
    static List<byte[]> segment(byte[] f, int mss) {
        Checksums.L4 h = new Checksums.L4();
        assertThat(h.parse(f, f.length)).isTrue();
        int hdr = h.payload();
        long seq = Checksums.u32(f, h.l4 + 4);
        List<byte[]> out = new ArrayList<>();
        for (int off = 0; off < h.payloadLen(); off += mss) {
            int n = Math.min(mss, h.payloadLen() - off);
            byte[] s = new byte[hdr + n];
            System.arraycopy(f, 0, s, 0, hdr);
            System.arraycopy(f, hdr + off, s, hdr, n);
            if (h.version == 4) {
                Checksums.put16(s, h.ip + 2, hdr - h.ip + n);
                Checksums.put16(s, h.ip + 4, Checksums.u16(f, h.ip + 4) + out.size());
                Checksums.putIpv4HeaderChecksum(s, h.ip);
            } else {
                Checksums.put16(s, h.ip + 4, hdr - h.l4 + n);
            }
            Checksums.put32(s, h.l4 + 4, (int) (seq + off));
            Checksums.putFull(s, h.ip, h.proto, h.l4, hdr - h.l4 + n);
            out.add(s);
        }
        return out;
    }

    @Test
    void framesTheHostBuildsForTheGuestVerify() {
        byte[] peer6 = new byte[16];
        peer6[0] = (byte) 0xfd;
        peer6[15] = 1;
        byte[] guest6 = peer6.clone();
        guest6[15] = 4;
        L4Traffic host = new L4Traffic(PEER_MAC, MAC, new byte[] {10, 3, 0, 1}, new byte[] {10, 3, 0, 4}, peer6, guest6, 7);
        byte[] b = new byte[65536];
        for (int fam : new int[] {4, 6}) {
            for (int size : new int[] {60, 1514, 9000}) {
                int len = host.udp(b, fam, size, false);
                assertThat(verifies(Arrays.copyOf(b, len), len, false)).as("udp%d %d", fam, size).isTrue();
                len = host.tcp(b, fam, Math.max(1, size - L4Traffic.headers(fam, Checksums.PROTO_TCP)), false);
                assertThat(verifies(Arrays.copyOf(b, len), len, false)).as("tcp%d %d", fam, size).isTrue();
            }
        }
    }
}
