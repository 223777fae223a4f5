package io.backplane.guest.netfront;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** The checksum helpers against known bytes (RFC 1071's example, packets built with Python's struct). */
class ChecksumsTest {
    /** IPv4 UDP 10.0.0.2:40000 -> 10.0.0.1:5002, payload "hello, netfront!!", checksums by Python. */
    static final String UDP4 = "feffffffffff00163e00000108004500002d123440004011148a0a0000020a0000019c40138a0019070c"
            + "68656c6c6f2c206e657466726f6e742121";
    /** IPv6 TCP fd00::2:40001 -> fd00::1:5001, seq 1000, PSH|ACK, payload 0..32, checksum 0xf0f3 by Python. */
    static final String TCP6 = "feffffffffff00163e00000186dd6000000000350640fd000000000000000000000000000002fd000000000000"
            + "0000000000000000019c411389000003e8000000005018fffff0f30000000102030405060708090a0b0c0d0e0f101112131415161718"
            + "191a1b1c1d1e1f20";

    static byte[] hex(String s) {
        return HexFormat.of().parseHex(s);
    }

    @Test
    void rfc1071Example() {
        byte[] b = {0x00, 0x01, (byte) 0xf2, 0x03, (byte) 0xf4, (byte) 0xf5, (byte) 0xf6, (byte) 0xf7};
        assertThat(Checksums.sum(b, 0, 8, 0)).isEqualTo(0x2ddf0);
        assertThat(Checksums.fold(0x2ddf0)).isEqualTo(0xddf2);
        assertThat(Checksums.checksum(b, 0, 8)).isEqualTo(0x220d);
        assertThat(Checksums.checksum(b, 0, 7)).isEqualTo(~Checksums.fold(0x2ddf0 - 0xf7) & 0xFFFF);  // odd length pads a zero
    }

    @Test
    void ipv4HeaderOfAKnownPacket() {
        // The usual textbook header: 192.168.0.1 -> 192.168.0.199, checksum 0xb861.
        byte[] h = hex("450000730000400040110000c0a80001c0a800c7");
        Checksums.putIpv4HeaderChecksum(h, 0);
        assertThat(Checksums.u16(h, 10)).isEqualTo(0xb861);
        assertThat(Checksums.ipv4HeaderValid(h, 0)).isTrue();
        h[8]--;
        assertThat(Checksums.ipv4HeaderValid(h, 0)).isFalse();
    }

    @Test
    void parsesAndValidatesKnownUdp4() {
        byte[] f = hex(UDP4);
        Checksums.L4 h = new Checksums.L4();
        assertThat(h.parse(f, f.length)).isTrue();
        assertThat(h.version).isEqualTo(4);
        assertThat(h.proto).isEqualTo(Checksums.PROTO_UDP);
        assertThat(h.l4).isEqualTo(34);
        assertThat(h.l4Len).isEqualTo(25);
        assertThat(h.payloadLen()).isEqualTo(17);
        assertThat(Checksums.ipv4HeaderValid(f, h.ip)).isTrue();
        assertThat(Checksums.l4Valid(f, h.ip, h.proto, h.l4, h.l4Len)).isTrue();

        byte[] mine = f.clone();
        Checksums.putFull(mine, h.ip, h.proto, h.l4, h.l4Len);
        assertThat(mine).isEqualTo(f);

        f[f.length - 1] ^= 1;
        assertThat(Checksums.l4Valid(f, h.ip, h.proto, h.l4, h.l4Len)).isFalse();
    }

    @Test
    void parsesAndValidatesKnownTcp6AndItsPartialForm() {
        byte[] f = hex(TCP6);
        Checksums.L4 h = new Checksums.L4();
        assertThat(h.parse(f, f.length)).isTrue();
        assertThat(h.version).isEqualTo(6);
        assertThat(h.proto).isEqualTo(Checksums.PROTO_TCP);
        assertThat(h.l4HeaderLen).isEqualTo(20);
        assertThat(h.payloadLen()).isEqualTo(33);
        assertThat(Checksums.l4Valid(f, h.ip, h.proto, h.l4, h.l4Len)).isTrue();

        // CHECKSUM_PARTIAL: the field holds the folded pseudo-header sum (0xfa3f by Python).
        byte[] partial = f.clone();
        Checksums.putPartial(partial, h.ip, h.proto, h.l4, h.l4Len);
        assertThat(Checksums.u16(partial, h.l4 + 16)).isEqualTo(0xfa3f);
        assertThat(Checksums.l4Valid(partial, h.ip, h.proto, h.l4, h.l4Len)).isFalse();
        Checksums.complete(partial, h.proto, h.l4, h.l4Len);
        assertThat(partial).isEqualTo(f);
    }

    @Test
    void completingAFieldThatHeldNoPseudoHeaderGivesABadChecksum() {
        byte[] f = hex(UDP4);
        Checksums.L4 h = new Checksums.L4();
        h.parse(f, f.length);
        Checksums.put16(f, h.l4 + 6, 0x1234);
        Checksums.complete(f, h.proto, h.l4, h.l4Len);
        assertThat(Checksums.l4Valid(f, h.ip, h.proto, h.l4, h.l4Len)).isFalse();
    }

    @Test
    void paddingAfterTheIpPacketIsIgnoredAndMalformedFramesRefused() {
        byte[] f = java.util.Arrays.copyOf(hex(UDP4), 60);
        Checksums.L4 h = new Checksums.L4();
        assertThat(h.parse(f, 60)).isTrue();
        assertThat(h.l4Len).isEqualTo(25);
        assertThat(h.parse(f, 50)).as("IP total length beyond the frame").isFalse();
        byte[] frag = hex(UDP4);
        Checksums.put16(frag, 20, 0x2000);      // more fragments
        assertThat(h.parse(frag, frag.length)).isFalse();
        byte[] arp = new byte[42];
        arp[12] = 0x08;
        arp[13] = 0x06;
        assertThat(h.parse(arp, 42)).isFalse();
    }
}
