package io.backplane.netback;

import static io.backplane.ring.layout.NetifConstants.NETRXF_CSUM_BLANK;
import static io.backplane.ring.layout.NetifConstants.NETRXF_DATA_VALIDATED;
import static io.backplane.ring.layout.NetifConstants.NETTXF_CSUM_BLANK;
import static io.backplane.ring.layout.NetifConstants.NETTXF_DATA_VALIDATED;
import static io.backplane.ring.layout.NetifConstants.XEN_NETIF_GSO_TYPE_NONE;
import static io.backplane.ring.layout.NetifConstants.XEN_NETIF_GSO_TYPE_TCPV4;
import static io.backplane.ring.layout.VirtioNetHdrDescriptor.VIRTIO_NET_HDR_F_NEEDS_CSUM;
import static io.backplane.ring.layout.VirtioNetHdrDescriptor.VIRTIO_NET_HDR_GSO_TCPV4;
import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.log.OperatorLog;
import io.backplane.api.sink.PacketSink;
import io.backplane.api.sink.SinkRequest;
import io.backplane.nativeio.NativeIo;
import io.backplane.netback.RxOffload.RxFrame;
import io.backplane.netback.sink.SinkFactory;
import java.io.ByteArrayOutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * netback's offload translation against the Linux kernel's own network stack, through a real
 * TAP device (the vif's sink): the host's UDP and TCP sockets are the judges. TX: a UDP datagram
 * and a TCP GSO frame sent the way netfront sends them (partial checksum, GSO extra), turned into
 * a virtio header by {@link VnetHeader}, must reach host sockets intact; the same datagram
 * without the translation must not. RX: the host's own partial-checksum UDP and TSO frames, as
 * the TAP hands them over, must reach the guest as netif describes them ({@link RxOffload}):
 * csum_blank and a GSO extra when taken, else completed checksums (equal to the kernel's) and
 * MSS-sized segments that verify and carry the host's bytes in order. The guest's side of the TCP
 * handshake is written by hand. Needs root, /dev/net/tun and ip; skipped with the reason otherwise.
 */
class TapOffloadTest {
    private static final byte[] GUEST_MAC = {0x00, 0x16, 0x3e, 0x21, 0x00, 0x02};
    static PacketSink sink;
    static String tap;
    static byte[] hostMac;
    static byte[] hostIp;
    static byte[] guestIp;
    private final ByteBuffer rx = ByteBuffer.allocateDirect(1 << 17);

    @BeforeAll
    static void start() throws Exception {
        TapTests.assumeTapUsable(TapOffloadTest.class, false);
        int n = (int) (ProcessHandle.current().pid() % 200) + 20;
        tap = "bpoff" + n;
        sink = new SinkFactory(new NativeIo(), "tap", false, OperatorLog.lines(System.out::println)).open(new SinkRequest(tap, "", 1500));
        hostIp = new byte[] {10, (byte) 214, (byte) n, 1};
        guestIp = new byte[] {10, (byte) 214, (byte) n, 2};
        run("ip", "addr", "add", "10.214." + n + ".1/24", "dev", tap);
        run("ip", "neigh", "replace", "10.214." + n + ".2", "lladdr", "00:16:3e:21:00:02", "dev", tap, "nud", "permanent");
        String mac = Files.readString(Path.of("/sys/class/net", tap, "address")).trim();
        hostMac = new byte[6];
        for (int i = 0; i < 6; i++) {
            hostMac[i] = (byte) Integer.parseInt(mac.substring(i * 3, i * 3 + 2), 16);
        }
    }

    @AfterAll
    static void stop() {
        if (sink != null) {
            sink.close();
        }
    }

    @Test
    void udpWithPartialChecksumReachesAHostSocketOnlyThroughTheVirtioHeader() throws Exception {
        try (DatagramSocket host = new DatagramSocket(new InetSocketAddress(InetAddress.getByAddress(hostIp), 0))) {
            host.setSoTimeout(3000);
            byte[] payload = random(1200, 1);
            // As netfront sends a CHECKSUM_PARTIAL skb: pseudo-header sum in the field, csum_blank.
            byte[] frame = Frames.udp(GUEST_MAC, hostMac, guestIp, hostIp, 40000, host.getLocalPort(), payload, true);
            transmit(frame, NETTXF_CSUM_BLANK | NETTXF_DATA_VALIDATED, XEN_NETIF_GSO_TYPE_NONE, 0);
            DatagramPacket got = new DatagramPacket(new byte[2000], 2000);
            host.receive(got);
            assertThat(Arrays.copyOf(got.getData(), got.getLength())).isEqualTo(payload);

            // The same bytes with the flag ignored, as before this translation: the host drops them.
            transmit(frame, 0, XEN_NETIF_GSO_TYPE_NONE, 0);
            host.setSoTimeout(1000);
            boolean received;
            try {
                host.receive(got);
                received = true;
            } catch (SocketTimeoutException e) {
                received = false;
            }
            assertThat(received).as("a partial checksum sent as complete is dropped by the host (InCsumErrors)").isFalse();
        }
    }

    @Test
    void tcpGsoFrameFromTheGuestIsReadByAHostTcpSocket() throws Exception {
        try (ServerSocket server = new ServerSocket()) {
            server.bind(new InetSocketAddress(InetAddress.getByAddress(hostIp), 0));
            server.setSoTimeout(5000);
            int port = server.getLocalPort();
            CompletableFuture<Socket> accepted = CompletableFuture.supplyAsync(() -> {
                try {
                    return server.accept();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            long guestSeq = 1_000_000;
            transmit(Frames.tcp(GUEST_MAC, hostMac, guestIp, hostIp, 40001, port, guestSeq, 0, Frames.SYN, new byte[0], false),
                    0, XEN_NETIF_GSO_TYPE_NONE, 0);
            byte[] synAck = awaitTcp(40001, Frames.SYN | Frames.ACK);
            long hostSeq = Integer.toUnsignedLong(ByteBuffer.wrap(synAck).getInt(34 + 4));
            guestSeq++;
            transmit(Frames.tcp(GUEST_MAC, hostMac, guestIp, hostIp, 40001, port, guestSeq, hostSeq + 1, Frames.ACK,
                    new byte[0], false), 0, XEN_NETIF_GSO_TYPE_NONE, 0);
            try (Socket s = accepted.get(5, TimeUnit.SECONDS)) {
                s.setSoTimeout(5000);
                // Four segments' worth (MSS 1448) in one frame with a GSO extra, as netfront sends TSO.
                byte[] payload = random(3 * 1448 + 700, 2);
                transmit(Frames.tcp(GUEST_MAC, hostMac, guestIp, hostIp, 40001, port, guestSeq, hostSeq + 1,
                        Frames.ACK | Frames.PSH, payload, true), NETTXF_CSUM_BLANK | NETTXF_DATA_VALIDATED,
                        XEN_NETIF_GSO_TYPE_TCPV4, 1448);
                assertThat(s.getInputStream().readNBytes(payload.length)).isEqualTo(payload);
            }
        }
    }

    @Test
    void hostPartialChecksumsAndTsoFramesReachTheGuestAsNetifSaysOrDoneInSoftware() throws Exception {
        sink.acceptOffloads(true, true, false);
        QueueStats stats = new QueueStats();
        RxOffload takesAll = new RxOffload(new RxOffload.Accepts(true, true, true, true), stats);
        RxOffload takesNone = new RxOffload(new RxOffload.Accepts(false, false, false, false), stats);

        // UDP: partial from the host with TUN_F_CSUM; completed here it must equal the kernel's own checksum.
        byte[] payload = random(900, 3);
        byte[] partial;
        byte[] kernelComplete;
        try (DatagramSocket host = new DatagramSocket(new InetSocketAddress(InetAddress.getByAddress(hostIp), 0))) {
            InetSocketAddress guest = new InetSocketAddress(InetAddress.getByAddress(guestIp), 40002);
            host.send(new DatagramPacket(payload, payload.length, guest));
            partial = awaitRaw(40002, 17);
            sink.acceptOffloads(false, false, false);
            host.send(new DatagramPacket(payload, payload.length, guest));
            kernelComplete = awaitRaw(40002, 17);
            sink.acceptOffloads(true, true, false);
        }
        assertThat(partial[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM).as("TAP gives a partial checksum with TUN_F_CSUM").isNotZero();
        assertThat(kernelComplete[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM).as("and a complete one without").isZero();
        List<RxFrame> asIs = convert(takesAll, partial);
        assertThat(asIs).singleElement().extracting(RxFrame::flags).isEqualTo(NETRXF_CSUM_BLANK | NETRXF_DATA_VALIDATED);
        List<RxFrame> done = convert(takesNone, partial);
        assertThat(done).singleElement().extracting(RxFrame::flags).isEqualTo(NETRXF_DATA_VALIDATED);
        int udpCsum = 10 + 34 + 6;
        assertThat(u16(bytes(done.get(0)), 34 + 6)).as("checksum completed in software = the kernel's")
                .isEqualTo(u16(kernelComplete, udpCsum)).isNotZero();

        // TCP: the host connects to the guest and writes; the guest's handshake is by hand, MSS 1460.
        {
            CompletableFuture<Socket> connected = CompletableFuture.supplyAsync(() -> {
                try {
                    Socket c = new Socket();
                    c.connect(new InetSocketAddress(InetAddress.getByAddress(guestIp), 40003), 5000);
                    return c;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            byte[] syn = awaitTcp(40003, Frames.SYN);
            long hostSeq = Integer.toUnsignedLong(ByteBuffer.wrap(syn).getInt(34 + 4));
            int hostPort = u16(syn, 34);
            long guestSeq = 5_000_000;
            transmit(Frames.tcp(GUEST_MAC, hostMac, guestIp, hostIp, 40003, hostPort, guestSeq, hostSeq + 1,
                    Frames.SYN | Frames.ACK, new byte[0], false), 0, XEN_NETIF_GSO_TYPE_NONE, 0);
            try (Socket c = connected.get(5, TimeUnit.SECONDS)) {
                byte[] data = random(8000, 4);
                c.getOutputStream().write(data);
                c.getOutputStream().flush();
                ByteArrayOutputStream stream = new ByteArrayOutputStream();
                boolean sawGso = false;
                while (stream.size() < data.length) {
                    byte[] raw = awaitRaw(40003, 6);
                    byte[] f = Arrays.copyOfRange(raw, 10, raw.length);
                    int payloadAt = 34 + ((f[34 + 12] & 0xF0) >>> 2);
                    if (f.length == payloadAt) {
                        continue;                      // a pure ACK
                    }
                    if ((raw[1] & 0x7F) == VIRTIO_NET_HDR_GSO_TCPV4) {
                        sawGso = true;
                        int mss = u16le(raw, 4);
                        assertThat(convert(takesAll, raw)).singleElement().satisfies(g -> {
                            assertThat(g.gsoType()).isEqualTo(XEN_NETIF_GSO_TYPE_TCPV4);
                            assertThat(g.gsoSize()).isEqualTo(mss);
                            assertThat(g.flags()).isEqualTo(NETRXF_CSUM_BLANK | NETRXF_DATA_VALIDATED);
                        });
                        List<RxFrame> segs = convert(takesNone, raw);
                        assertThat(segs).hasSize((f.length - payloadAt + mss - 1) / mss);
                        long expectSeq = Integer.toUnsignedLong(ByteBuffer.wrap(f).getInt(34 + 4));
                        for (RxFrame seg : segs) {
                            byte[] b = bytes(seg);
                            assertThat(b.length - payloadAt).isLessThanOrEqualTo(mss);
                            assertThat(Frames.ipv4HeaderVerifies(b)).as("IPv4 header checksum").isTrue();
                            assertThat(Frames.tcpVerifies(b)).as("TCP checksum of a software segment").isTrue();
                            assertThat(Integer.toUnsignedLong(ByteBuffer.wrap(b).getInt(34 + 4))).isEqualTo(expectSeq);
                            expectSeq += b.length - payloadAt;
                            stream.write(b, payloadAt, b.length - payloadAt);
                        }
                    } else {
                        assertThat(convert(takesNone, raw)).singleElement()
                                .satisfies(one -> assertThat(Frames.tcpVerifies(bytes(one))).isTrue());
                        stream.write(f, payloadAt, f.length - payloadAt);
                    }
                }
                assertThat(stream.toByteArray()).as("the host's bytes, in order").isEqualTo(data);
                assertThat(sawGso).as("the host sent TSO frames through the TAP (TUN_F_TSO4)").isTrue();
            }
        }
        assertThat(stats.rxSegmented.get()).isPositive();
        assertThat(stats.rxChecksumsCompleted.get()).isPositive();
    }

    private static List<RxFrame> convert(RxOffload offload, byte[] raw) {
        List<RxFrame> out = new ArrayList<>();
        offload.convert(raw.clone(), out::add);
        return out;
    }

    private static byte[] bytes(RxFrame f) {
        return Arrays.copyOfRange(f.data(), f.offset(), f.offset() + f.length());
    }

    /** Sends one frame the guest way: netif flags and GSO turned into the virtio header by netback's own code. */
    private static void transmit(byte[] frame, int txFlags, int gsoType, int gsoSize) {
        // Little-endian, as TxPath's batch buffer is: header parsing must not depend on the buffer's order.
        ByteBuffer b = ByteBuffer.allocateDirect(10 + frame.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put(10, frame);
        assertThat(new VnetHeader().fromTx(b, 0, frame.length, txFlags, gsoType, gsoSize)).isTrue();
        sink.transmit(b);
    }

    /** The next IPv4 frame (header included) from the host to the guest with this protocol and destination port. */
    private byte[] awaitRaw(int guestPort, int proto) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            rx.clear();
            int n = sink.receive(rx, 200);
            if (n <= 0) {
                continue;
            }
            byte[] raw = new byte[n];
            rx.get(0, raw);
            if (n >= 10 + 38 && u16(raw, 10 + 12) == 0x0800 && (raw[10 + 23] & 0xFF) == proto
                    && u16(raw, 10 + 34 + 2) == guestPort) {
                return raw;
            }
        }
        throw new AssertionError("no frame to guest port " + guestPort + " within 5 s");
    }

    /** The next TCP frame to the guest port with exactly these flags among SYN/ACK (no header). */
    private byte[] awaitTcp(int guestPort, int flags) {
        while (true) {
            byte[] raw = awaitRaw(guestPort, 6);
            if ((raw[10 + 34 + 13] & (Frames.SYN | Frames.ACK)) == flags) {
                return Arrays.copyOfRange(raw, 10, raw.length);
            }
        }
    }

    private static int u16(byte[] b, int at) {
        return (b[at] & 0xFF) << 8 | (b[at + 1] & 0xFF);
    }

    private static int u16le(byte[] b, int at) {
        return (b[at] & 0xFF) | (b[at + 1] & 0xFF) << 8;
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + out).isZero();
    }

}
