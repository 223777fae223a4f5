package io.backplane.netback;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.device.DeviceId;
import io.backplane.api.log.OperatorLog;
import io.backplane.guest.netfront.L4Traffic;
import io.backplane.nativeio.NativeIo;
import io.backplane.nativeio.TapDevice;
import io.backplane.netback.sink.SinkFactory;
import io.backplane.ring.layout.VirtioNetHdrDescriptor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntConsumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Zero-copy RX through a real TAP device, across processes: the vif's TAP and a TAP of this test
 * on one bridge; frames the test writes into its TAP are forwarded by the kernel's bridge to the
 * vif's, and netback (ring-zerocopy ranked first) reads each with one readv straight into the sim
 * Java netfront's kept RX pages: test frames of one page (up to 4096 bytes behind the virtio
 * header, which lands in a buffer of its own) and 60 KB TCP GSO frames over 15 pages with the GSO
 * extra in the second slot, and 9000-byte jumbo frames over three pages, answered in place too
 * (the second slot, kept for a GSO extra, carries the first page's last 64 bytes). A vif of 4
 * queues gets a TAP queue each: every queue reads the frames the kernel put on its own queue
 * straight into its own RX pages, also while its rings move between strategies. The guest checks
 * every byte (test frames in order, UDP and TCP payload and checksums). Needs root, /dev/net/tun
 * and ip; skipped with the reason otherwise.
 */
class TapZeroCopyRxTest {
    private static final int[] SIZES = {60, 1514, 4096, 9000};
    private static final int FRAMES = 80;
    private static final int GSO_FRAMES = 5;
    private static final int GSO_PAYLOAD = 60_000;
    static SimNet net;
    static String bridge;
    static TapDevice host;

    @BeforeAll
    static void start() throws Exception {
        TapTests.assumeTapUsable(TapZeroCopyRxTest.class, false);
        net = new SimNet();
        long n = ProcessHandle.current().pid() % 1000;
        bridge = "bpzcbr" + n;
        run("ip", "link", "add", bridge, "type", "bridge");
        host = new NativeIo().openTapWithVnetHeader("bpzch" + n);
        run("ip", "link", "set", host.name(), "mtu", "9000");
        run("ip", "link", "set", host.name(), "master", bridge);
        quiet(bridge);
        quiet(host.name());
        host.setUp(true);
        run("ip", "link", "set", bridge, "up");
    }

    @AfterAll
    static void stop() throws Exception {
        if (host != null) {
            host.close();
        }
        if (bridge != null) {
            run("ip", "link", "del", bridge);
        }
        if (net != null) {
            net.close();
        }
    }

    /** No IPv6 on the interface: the host's own router solicitations would be frames the guest did not expect. */
    private static void quiet(String dev) throws Exception {
        Path p = Path.of("/proc/sys/net/ipv6/conf", dev, "disable_ipv6");
        if (Files.exists(p)) {
            Files.writeString(p, "1");
        }
    }

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + out).isZero();
    }

    @Test
    void framesAreReadFromTheTapStraightIntoTheGuestsRxPages() throws Exception {
        int domid = net.createDomain("net-zc-rx");
        String guestMac = "00:16:3e:22:00:01";
        try (NetbackBus bus = zeroCopyTapBus()) {
            bus.offer(domid, 0, 1, Map.of("feature-persistent", "1"));
            DeviceId id = net.addVif(domid, 0, guestMac, bridge, null, Map.of("mtu", "9000"));
            assertThat(SimNet.await(10, () -> bus.probed(id))).isTrue();
            quiet("vif" + domid + ".0");
            String subnet = "10.216." + (domid % 250);
            net.startGuest(domid, "ip=" + subnet + ".2,queues=1,count=0");
            assertThat(SimNet.await(20, () -> "4".equals(net.read(id.backendPath() + "/state"))
                    && "4".equals(net.read(id.frontendPath() + "/state")))).as(log(domid)).isTrue();
            assertThat(bus.status(id)).containsEntry("strategy", "zero-copy");
            assertThat(bus.status(id).get("features")).startsWith("sg gso-tcpv4 gso-tcpv6");

            // Test frames from the host side (broadcast: the bridge floods them to the vif), paced
            // so the guest keeps its buffers posted; the ledger checks their order.
            byte[] src = HexFormat.ofDelimiter(":").parseHex("00:16:3e:99:77:01");
            ByteBuffer out = ByteBuffer.allocateDirect(VirtioNetHdrDescriptor.LENGTH + 0x10000).order(ByteOrder.LITTLE_ENDIAN);
            for (int seq = 0; seq < FRAMES; seq++) {
                byte[] f = NetbackHotSwapTest.frame(src, 0, seq, SIZES[seq % SIZES.length]);
                out.clear().put(new byte[VirtioNetHdrDescriptor.LENGTH]).put(f).flip();
                host.write(out);
                Thread.sleep(2);
            }
            assertThat(SimNet.await(20, () -> net.stat(id, "rx-verified") == FRAMES)).as("%s; %s",
                    net.stat(id, "rx-verified"), log(domid)).isTrue();

            // TCP GSO frames of the guest's flow (its L4 pattern), one at a time.
            byte[] guest = HexFormat.ofDelimiter(":").parseHex(guestMac);
            byte[] guestIp = {10, (byte) 216, (byte) (domid % 250), 2};
            for (int g = 0; g < GSO_FRAMES; g++) {
                out.clear();
                gsoFrame(out, guest, src, guestIp, g * (long) GSO_PAYLOAD);
                host.write(out);
                int expect = FRAMES + g + 1;
                assertThat(SimNet.await(20, () -> net.stat(id, "rx-verified") == expect)).as("GSO frame %d; %s; %s",
                        g, bus.status(id), log(domid)).isTrue();
            }
            assertThat(net.stat(id, "rx-bad")).isZero();
            assertThat(net.stat(id, "rx-csum-bad")).isZero();
            assertThat(net.stat(id, "rx-missing")).isZero();
            assertThat(net.stat(id, "rx-duplicates")).isZero();
            // The guest's counters are not read at one instant: its GSO count may lag the verified one.
            assertThat(SimNet.await(20, () -> net.stat(id, "rx-gso") == GSO_FRAMES)).as("rx-gso %s", net.stat(id, "rx-gso")).isTrue();

            Map<String, String> status = bus.status(id);
            System.out.println("zero-copy RX through TAP: " + status);
            long zeroCopy = Long.parseLong(status.get("queue-0/rx-zero-copy"));
            long spilled = Long.parseLong(status.get("queue-0/rx-zero-copy-spilled"));
            assertThat(status).containsEntry("queue-0/rx-gso", Long.toString(GSO_FRAMES))
                    .containsEntry("queue-0/rx-ring/zero-copy-fallback-copies", "0");
            assertThat(zeroCopy).as("frames read into the guest's pages in place; %s", status)
                    .isGreaterThanOrEqualTo(GSO_FRAMES + 1);
            assertThat(spilled).as("nothing copied out, jumbo frames included; %s", status).isZero();
        }
    }

    /**
     * A vif of 4 queues on zero-copy: its TAP has a queue (an fd) per vif queue and the kernel
     * spreads the host's frames over them by flow; each vif queue reads its own TAP queue straight
     * into its own posted RX pages. UDP frames of 64 flows (60 to 9000 bytes, the jumbo ones over
     * three pages) are all verified by the guest, each queue counts frames read in place, and
     * jumbo frames sent one at a time are all answered in place. Then the rings move to grant copy
     * and back under the same traffic, none lost.
     */
    @Test
    void eachQueueOfAMultiQueueVifReadsItsOwnTapQueueIntoItsRxPages() throws Exception {
        int queues = 4;
        int domid = net.createDomain("net-zc-mq");
        String guestMac = "00:16:3e:22:00:02";
        try (NetbackBus bus = zeroCopyTapBus()) {
            bus.offer(domid, 0, queues, Map.of("feature-persistent", "1"));
            DeviceId id = net.addVif(domid, 0, guestMac, bridge, null, Map.of("mtu", "9000"));
            assertThat(SimNet.await(10, () -> bus.probed(id))).isTrue();
            quiet("vif" + domid + ".0");
            String subnet = "10.217." + (domid % 250);
            net.startGuest(domid, "ip=" + subnet + ".2,queues=" + queues + ",count=0");
            assertThat(SimNet.await(20, () -> "4".equals(net.read(id.backendPath() + "/state"))
                    && "4".equals(net.read(id.frontendPath() + "/state")))).as(log(domid)).isTrue();
            assertThat(bus.status(id)).containsEntry("strategy", "zero-copy").containsEntry("queues", Integer.toString(queues))
                    .containsEntry("sink-queues", Integer.toString(queues));
            assertThat(Path.of("/sys/class/net/vif" + domid + ".0/queues/rx-" + (queues - 1))).as("the TAP's queues").exists();

            byte[] peerMac = HexFormat.ofDelimiter(":").parseHex("00:16:3e:99:77:02");
            byte[] guest = HexFormat.ofDelimiter(":").parseHex(guestMac);
            byte[] peerIp = {10, (byte) 217, (byte) (domid % 250), 1};
            byte[] guestIp = {10, (byte) 217, (byte) (domid % 250), 2};
            // 64 flows of the guest's UDP service (port 5002, source ports 40000..40063), each
            // frame with its payload pattern and full checksums; the kernel hashes them over the queues.
            L4Traffic[] flows = new L4Traffic[64];
            for (int f = 0; f < flows.length; f++) {
                flows[f] = new L4Traffic(peerMac, guest, peerIp, guestIp, new byte[16], new byte[16], f);
            }
            int[] sizes = {60, 1514, 9000};
            long[] sent = {0};
            ByteBuffer out = ByteBuffer.allocateDirect(VirtioNetHdrDescriptor.LENGTH + 0x10000);
            byte[] b = new byte[0x10000];
            IntConsumer send = size -> {
                L4Traffic flow = flows[(int) (sent[0] % flows.length)];
                int len = flow.udp(b, 4, size, false);
                out.clear().put(new byte[VirtioNetHdrDescriptor.LENGTH]).put(b, 0, len).flip();
                host.write(out);
                sent[0]++;
            };
            for (int round = 0; round < 4 && !everyQueue(bus.status(id), queues, "rx-zero-copy"); round++) {
                for (int i = 0; i < 3 * flows.length; i++) {
                    send.accept(sizes[i % sizes.length]);
                    Thread.sleep(2);
                }
                long expect = sent[0];
                assertThat(SimNet.await(20, () -> net.stat(id, "rx-verified") == expect)).as("%d sent; %s; %s",
                        expect, stats(id), log(domid)).isTrue();
            }
            Map<String, String> status = bus.status(id);
            System.out.println("multi-queue zero-copy RX through TAP: " + status);
            assertThat(everyQueue(status, queues, "rx-zero-copy")).as("frames read in place on every queue; %s", status).isTrue();
            for (int q = 0; q < queues; q++) {
                String p = "queue-" + q + "/";
                long answered = Long.parseLong(status.get(p + "rx-packets"));
                assertThat(SimNet.await(5, () -> net.stat(id, p + "rx-received") == answered))
                        .as("queue %d: the guest received there what netback answered there; %s", q, status).isTrue();
            }

            // Jumbo frames one at a time (every buffer posted again by then): all answered in place,
            // none through a copy.
            long inPlace = sum(status, queues, "rx-zero-copy");
            long copied = sum(status, queues, "rx-ring/zero-copy-memcpy");
            for (int j = 0; j < 8; j++) {
                send.accept(9000);
                long expect = sent[0];
                assertThat(SimNet.await(20, () -> net.stat(id, "rx-verified") == expect)).as("%s", stats(id)).isTrue();
            }
            status = bus.status(id);
            assertThat(sum(status, queues, "rx-zero-copy")).as("%s", status).isGreaterThanOrEqualTo(inPlace + 8);
            assertThat(sum(status, queues, "rx-ring/zero-copy-memcpy")).as("%s", status).isEqualTo(copied);

            // The strategy moves under the same traffic: grant copy, then zero-copy again.
            AtomicBoolean sending = new AtomicBoolean(true);
            Thread sender = new Thread(() -> {
                for (int i = 0; sending.get(); i++) {
                    send.accept(sizes[i % sizes.length]);
                    try {
                        Thread.sleep(2);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            sender.start();
            try {
                for (String strategy : new String[] {"grant-copy", "zero-copy"}) {
                    long before = net.stat(id, "rx-verified");
                    assertThat(SimNet.await(10, () -> net.stat(id, "rx-verified") > before + 100)).as("%s", stats(id)).isTrue();
                    assertThat(bus.swap(id, strategy)).hasSize(2 * queues).allSatisfy(d -> assertThat(d.to()).isEqualTo(strategy));
                }
                long before = net.stat(id, "rx-verified");
                assertThat(SimNet.await(10, () -> net.stat(id, "rx-verified") > before + 100)).as("%s", stats(id)).isTrue();
            } finally {
                sending.set(false);
                sender.join(5000);
            }
            long expect = sent[0];
            assertThat(SimNet.await(20, () -> net.stat(id, "rx-verified") == expect)).as("%d sent; %s; %s",
                    expect, stats(id), log(domid)).isTrue();
            assertThat(net.stat(id, "rx-bad")).isZero();
            assertThat(net.stat(id, "rx-csum-bad")).isZero();
            status = bus.status(id);
            assertThat(sum(status, queues, "rx-dropped")).isZero();
            assertThat(sum(status, queues, "rx-zero-copy-spilled")).isZero();
            assertThat(status).containsEntry("strategy", "zero-copy");
            assertThat(net.read(id.frontendPath() + "/stats/connections")).as("no reconnect").isEqualTo("1");
        }
    }

    /**
     * A 2-queue vif on zero-copy whose guest granted the RX buffers of ids 0 and 1 of each queue
     * read-only (netfront option rx-readonly=2): netback cannot lend those pages, so each frame
     * that lands there falls back to grant copy, which is refused, and is answered NETIF_RSP_ERROR
     * on its queue (the frames that landed on ids 0 and 1 of each queue's ring, counted by position
     * on both sides); every other frame arrives intact, most read in place, on both queues.
     */
    @Test
    void aReadOnlyRxBufferIsRefusedOnItsQueueAlone() throws Exception {
        int queues = 2;
        int slots = 256;
        int readOnly = 2;
        int domid = net.createDomain("net-zc-ro");
        String guestMac = "00:16:3e:22:00:03";
        try (NetbackBus bus = zeroCopyTapBus()) {
            bus.offer(domid, 0, queues, Map.of("feature-persistent", "1"));
            DeviceId id = net.addVif(domid, 0, guestMac, bridge, null);
            assertThat(SimNet.await(10, () -> bus.probed(id))).isTrue();
            quiet("vif" + domid + ".0");
            String subnet = "10.218." + (domid % 250);
            net.startGuest(domid, "ip=" + subnet + ".2,queues=" + queues + ",count=0,rx-readonly=" + readOnly);
            assertThat(SimNet.await(20, () -> "4".equals(net.read(id.backendPath() + "/state"))
                    && "4".equals(net.read(id.frontendPath() + "/state")))).as(log(domid)).isTrue();
            assertThat(bus.status(id)).containsEntry("strategy", "zero-copy").containsEntry("sink-queues", "2");

            byte[] peerMac = HexFormat.ofDelimiter(":").parseHex("00:16:3e:99:77:03");
            byte[] guest = HexFormat.ofDelimiter(":").parseHex(guestMac);
            byte[] peerIp = {10, (byte) 218, (byte) (domid % 250), 1};
            byte[] guestIp = {10, (byte) 218, (byte) (domid % 250), 2};
            ByteBuffer out = ByteBuffer.allocateDirect(VirtioNetHdrDescriptor.LENGTH + 0x10000);
            byte[] b = new byte[0x10000];
            int sent = 0;
            // Frames of one page each, so frame J of a queue lands on its ring slot J, buffer id J mod 256.
            for (int round = 0; round < 4 && (sent == 0 || !everyQueue(bus.status(id), queues, "rx-zero-copy")
                    || !everyQueue(bus.status(id), queues, "rx-errors")); round++) {
                for (int f = 0; f < 64; f++) {
                    int len = new L4Traffic(peerMac, guest, peerIp, guestIp, new byte[16], new byte[16], f)
                            .udp(b, 4, 60 + (f * 97 + round * 13) % 1455, false);
                    out.clear().put(new byte[VirtioNetHdrDescriptor.LENGTH]).put(b, 0, len).flip();
                    host.write(out);
                    sent++;
                    Thread.sleep(2);
                }
                int expect = sent;
                // Each frame verified or refused (the host's own frames queued before IPv6 was off may be either too).
                assertThat(SimNet.await(20, () -> net.stat(id, "rx-verified") + net.stat(id, "rx-errors") >= expect))
                        .as("%d sent; %s; %s", expect, stats(id), bus.status(id)).isTrue();
            }
            Map<String, String> status = bus.status(id);
            System.out.println("zero-copy RX with read-only buffers on 2 queues: " + status);
            int all = sent;
            long refused = 0;
            for (int q = 0; q < queues; q++) {
                String p = "queue-" + q + "/";
                long answered = Long.parseLong(status.get(p + "rx-packets"));
                long errors = Long.parseLong(status.get(p + "rx-errors"));
                long frames = answered + errors;
                long expected = frames / slots * readOnly + Math.min(frames % slots, readOnly);
                assertThat(errors).as("queue %d: the frames that landed on ids 0..%d; %s", q, readOnly - 1, status)
                        .isEqualTo(expected).isPositive();
                assertThat(status).containsEntry(p + "rx-ring/zero-copy-fallback-copies", Long.toString(expected));
                assertThat(Long.parseLong(status.get(p + "rx-zero-copy"))).as("queue %d read in place", q).isPositive();
                assertThat(SimNet.await(5, () -> net.stat(id, p + "rx-errors") == expected
                        && net.stat(id, p + "rx-received") == answered)).as("queue %d in the guest; %s", q, stats(id)).isTrue();
                refused += expected;
            }
            long refusedAll = refused;
            assertThat(net.stat(id, "rx-verified")).as("every frame verified or refused").isLessThanOrEqualTo(all)
                    .isGreaterThanOrEqualTo(all - refusedAll);
            assertThat(net.stat(id, "rx-bad")).isZero();
            assertThat(net.stat(id, "rx-csum-bad")).isZero();
            assertThat(status).doesNotContainKey("disabled");
        }
    }

    private static boolean everyQueue(Map<String, String> status, int queues, String counter) {
        for (int q = 0; q < queues; q++) {
            if (Long.parseLong(status.getOrDefault("queue-" + q + "/" + counter, "0")) == 0) {
                return false;
            }
        }
        return true;
    }

    private static long sum(Map<String, String> status, int queues, String counter) {
        long n = 0;
        for (int q = 0; q < queues; q++) {
            n += Long.parseLong(status.getOrDefault("queue-" + q + "/" + counter, "0"));
        }
        return n;
    }

    private static String stats(DeviceId id) {
        return "rx-received " + net.stat(id, "rx-received") + " rx-verified " + net.stat(id, "rx-verified")
                + " rx-errors " + net.stat(id, "rx-errors")
                + " rx-bad " + net.stat(id, "rx-bad") + " rx-csum-bad " + net.stat(id, "rx-csum-bad");
    }

    /**
     * A TCP/IPv4 GSO frame from the guest's peer (port 5001) to the guest's flow (port 40000),
     * payload = the flow's pattern at {@code seq}, with the virtio header a host stack gives a
     * TSO frame: partial checksum (the pseudo-header sum in place), TCPv4, MSS 1448.
     */
    private static void gsoFrame(ByteBuffer b, byte[] dst, byte[] src, byte[] dstIp, long seq) {
        int hdr = VirtioNetHdrDescriptor.LENGTH;
        int len = 54 + GSO_PAYLOAD;
        b.put(VirtioNetHdrDescriptor.FLAGS_OFFSET, (byte) VirtioNetHdrDescriptor.VIRTIO_NET_HDR_F_NEEDS_CSUM);
        b.put(VirtioNetHdrDescriptor.GSO_TYPE_OFFSET, (byte) VirtioNetHdrDescriptor.VIRTIO_NET_HDR_GSO_TCPV4);
        b.putShort(VirtioNetHdrDescriptor.HDR_LEN_OFFSET, (short) 54);
        b.putShort(VirtioNetHdrDescriptor.GSO_SIZE_OFFSET, (short) 1448);
        b.putShort(VirtioNetHdrDescriptor.CSUM_START_OFFSET, (short) 34);
        b.putShort(VirtioNetHdrDescriptor.CSUM_OFFSET_OFFSET, (short) 16);
        ByteBuffer f = b.duplicate().order(ByteOrder.BIG_ENDIAN).position(hdr);
        f.put(dst).put(src).putShort((short) 0x0800);
        f.put((byte) 0x45).put((byte) 0).putShort((short) (len - 14)).putShort((short) 1).putShort((short) 0x4000)
                .put((byte) 64).put((byte) 6).putShort((short) 0).put(new byte[] {10, (byte) 216, dstIp[2], 1}).put(dstIp);
        int flow = L4Traffic.TCP_PORT ^ L4Traffic.SRC_PORT_BASE;
        f.putShort((short) L4Traffic.TCP_PORT).putShort((short) L4Traffic.SRC_PORT_BASE).putInt((int) seq).putInt(1)
                .put((byte) 0x50).put((byte) 0x18).putShort((short) 0xffff).putShort((short) 0).putShort((short) 0);
        for (int i = 0; i < GSO_PAYLOAD; i++) {
            f.put(L4Traffic.pattern(flow, seq + i));
        }
        ByteBuffer frame = b.duplicate().position(hdr).limit(hdr + len).slice();
        InetChecksum.ipv4Header(frame, 14);
        FrameHeaders h = new FrameHeaders();
        assertThat(h.parse(frame, 0, len)).isTrue();
        FrameHeaders.putU16(frame, 34 + 16, InetChecksum.pseudoHeader(frame, 0, h, len - 34));
        b.position(0).limit(hdr + len);
    }

    private static String log(int domid) throws Exception {
        return net.guestOutput(domid);
    }

    /** netback on real TAP devices, the zero-copy strategy ranked first. */
    private static NetbackBus zeroCopyTapBus() {
        return new NetbackBus(net.xs, new NetbackDriver(RealRings.zeroCopyFirst(net.sim), net.sim,
                new SinkFactory(new NativeIo(), "tap", false, OperatorLog.lines(System.out::println)),
                NetbackDriver.Settings.defaults()));
    }
}
