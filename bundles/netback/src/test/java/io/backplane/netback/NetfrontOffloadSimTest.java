package io.backplane.netback;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.device.DeviceId;
import io.backplane.api.sink.SinkRequest;
import io.backplane.guest.netfront.Checksums;
import io.backplane.guest.netfront.L4Traffic;
import io.backplane.netback.sink.MemorySink;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The sim guest's netfront sending UDP and TCP (IPv4 and IPv6) with checksum offload and TCP GSO
 * as Linux xen-netfront does, and checking what it receives, through this netback.
 */
class NetfrontOffloadSimTest {
    static SimNet net;
    final Map<String, MemorySink> sinks = new ConcurrentHashMap<>();
    NetbackBus bus;

    @BeforeAll
    static void startSim() throws Exception {
        net = new SimNet();
    }

    @AfterAll
    static void stopSim() throws Exception {
        net.close();
    }

    @AfterEach
    void removeDevices() {
        if (bus != null) {
            bus.close();
        }
    }

    private DeviceId vif(int domid, String mac, boolean loopback) {
        bus = new NetbackBus(net.xs, new NetbackDriver(RealRings.grantCopy(net.sim), net.sim,
                (SinkRequest r) -> sinks.computeIfAbsent(r.name(), n -> new MemorySink(n, loopback, "test")),
                NetbackDriver.Settings.defaults()));
        bus.offer(domid, 0, 1);
        return net.addVif(domid, 0, mac, "", null);
    }

    private String guestLog(int domid) throws Exception {
        return Files.exists(net.guestLog(domid)) ? Files.readString(net.guestLog(domid)) : "";
    }

    private static Map<String, Long> stats(DeviceId id, String... names) {
        Map<String, Long> m = new java.util.LinkedHashMap<>();
        for (String n : names) {
            m.put(n, net.stat(id, n));
        }
        return m;
    }

    @Test
    void offloadedFramesReachTheHostAsLinuxNetfrontSendsThem() throws Exception {
        int domid = net.createDomain("nf-offload-tx");
        DeviceId id = vif(domid, "00:16:3e:20:00:01", false);
        int count = 50;
        net.startGuest(domid, "ip=10.3.0.2,queues=1,traffic=mixed,family=both,rate=2000,count=" + count
                + ",size=60:1514:9000:65535");
        assertThat(SimNet.await(20, () -> "4".equals(net.read(id.backendPath() + "/state"))))
                .as("connected; log:\n%s", guestLog(domid)).isTrue();

        MemorySink sink = sinks.get("vif" + domid + ".0");
        int raw = 0;
        int partial = 0;
        int big = 0;
        Checksums.L4 h = new Checksums.L4();
        for (int i = 0; i < count; i++) {
            byte[] f = sink.takeTransmitted(10_000);
            assertThat(f).as("frame %d; status %s log:\n%s", i, bus.status(id), guestLog(domid)).isNotNull();
            if (Checksums.u16(f, 12) == 0x88B5) {
                raw++;
                continue;
            }
            assertThat(h.parse(f, f.length)).as("frame %d parses as UDP/TCP", i).isTrue();
            assertThat(L4Traffic.ours(f, h)).isTrue();
            // CHECKSUM_PARTIAL as Linux sends it: the field holds the pseudo-header sum, so the
            // frame is not valid as is, and completing it from the checksum start makes it valid.
            int field = Checksums.u16(f, h.l4 + Checksums.csumOffset(h.proto));
            assertThat(field).isEqualTo(Checksums.fold(Checksums.pseudoHeaderSum(f, h.ip, h.proto, h.l4Len)));
            Checksums.complete(f, h.proto, h.l4, h.l4Len);
            assertThat(Checksums.l4Valid(f, h.ip, h.proto, h.l4, h.l4Len)).isTrue();
            assertThat(h.version == 6 || Checksums.ipv4HeaderValid(f, h.ip)).isTrue();
            assertThat(L4Traffic.payloadValid(f, h)).as("payload pattern of frame %d", i).isTrue();
            partial++;
            if (h.proto == Checksums.PROTO_TCP && f.length > 1514) {
                big++;
                assertThat(f.length).isIn(9000, 65535);
            }
        }
        assertThat(raw).isEqualTo(count / 5);
        assertThat(sink.takeTransmitted(300)).as("one frame per TCP send: GSO, not segmented").isNull();
        assertThat(SimNet.await(10, () -> net.stat(id, "tx-answered") == count)).isTrue();
        int partialFrames = partial;
        int gsoFrames = big;
        assertThat(SimNet.await(5, () -> net.stat(id, "tx-csum-blank") == partialFrames)).as("%s",
                stats(id, "tx-csum-blank", "tx-gso")).isTrue();
        assertThat(gsoFrames).isPositive();
        assertThat(SimNet.await(5, () -> net.stat(id, "tx-gso") == gsoFrames)).as("%s", stats(id, "tx-gso")).isTrue();
        assertThat(net.stat(id, "tx-segmented")).isZero();
        assertThat(net.stat(id, "tx-failed")).isZero();
    }

    @Test
    void withoutOffloadsEveryFrameLoopsBackVerified() throws Exception {
        int domid = net.createDomain("nf-offload-sw");
        DeviceId id = vif(domid, "00:16:3e:20:00:02", true);
        net.startGuest(domid, "ip=10.3.0.3,queues=1,traffic=mixed,family=both,csum=0,gso=0,rate=2000,count=60"
                + ",size=60:1514:9000:30000");
        // 60 sends of raw, UDP4, TCP4, UDP6, TCP6 in turn, sizes cycled per kind: 12 TCP sends of
        // 9000 or 30000 bytes are cut into MSS segments (1460 / 1440): 3 x 7 + 3 x 21 per family.
        long frames = 60 - 12 + 2 * (3 * 7 + 3 * 21);
        assertThat(SimNet.await(30, () -> net.stat(id, "tx-answered") == frames && net.stat(id, "rx-received") == frames))
                .as("%s; log:\n%s", stats(id, "tx-sent", "tx-answered", "tx-segmented", "rx-received"), guestLog(domid)).isTrue();
        assertThat(SimNet.await(5, () -> net.stat(id, "rx-verified") == net.stat(id, "rx-received")))
                .as("%s", stats(id, "rx-received", "rx-verified", "rx-bad", "rx-csum-bad", "rx-l4")).isTrue();
        assertThat(stats(id, "rx-bad", "rx-csum-bad", "rx-csum-blank", "rx-gso", "rx-unasked-offload", "tx-csum-blank", "tx-gso"))
                .allSatisfy((k, v) -> assertThat(v).as(k).isZero());
        // The guest writes its counters key by key: wait for the later keys of the same report.
        assertThat(SimNet.await(5, () -> net.stat(id, "rx-l4") > 0)).isTrue();
        assertThat(SimNet.await(5, () -> net.stat(id, "tx-segmented") == 2 * (3 * 7 + 3 * 21)))
                .as("TCP beyond one MSS cut by the guest: %s", stats(id, "tx-segmented")).isTrue();
    }

    @Test
    void checksumsOfFramesFromTheHostAreVerified() throws Exception {
        int domid = net.createDomain("nf-offload-rx");
        DeviceId id = vif(domid, "00:16:3e:20:00:03", false);
        net.startGuest(domid, "ip=10.3.0.4,queues=1");
        assertThat(SimNet.await(20, () -> "4".equals(net.read(id.backendPath() + "/state"))))
                .as("connected; log:\n%s", guestLog(domid)).isTrue();
        MemorySink sink = sinks.get("vif" + domid + ".0");
        byte[] peerMac = HexFormat.ofDelimiter(":").parseHex("00:16:3e:99:99:99");
        byte[] guestMac = HexFormat.ofDelimiter(":").parseHex("00:16:3e:20:00:03");
        byte[] peer6 = new byte[16];
        peer6[0] = (byte) 0xfd;
        peer6[15] = 1;
        byte[] guest6 = peer6.clone();
        guest6[15] = 4;
        // The host side of the flows: from the peer to the guest.
        L4Traffic host = new L4Traffic(peerMac, guestMac, new byte[] {10, 3, 0, 1}, new byte[] {10, 3, 0, 4}, peer6, guest6, 7);
        byte[] b = new byte[65536];
        int good = 0;
        for (int fam : new int[] {4, 6}) {
            for (int size : new int[] {60, 1514, 9000}) {
                sink.inject(Arrays.copyOf(b, host.udp(b, fam, size, false)));
                sink.inject(Arrays.copyOf(b, host.tcp(b, fam, Math.max(1, size - L4Traffic.headers(fam, Checksums.PROTO_TCP)), false)));
                good += 2;
            }
        }
        int verified = good;
        assertThat(SimNet.await(10, () -> net.stat(id, "rx-verified") == verified))
                .as("%s; log:\n%s", stats(id, "rx-received", "rx-verified", "rx-bad", "rx-csum-bad"), guestLog(domid)).isTrue();
        // A partial checksum without NETRXF_csum_blank, and a flipped payload bit: checksum errors.
        sink.inject(Arrays.copyOf(b, host.tcp(b, 4, 100, true)));
        int len = host.udp(b, 6, 200, false);
        b[len - 3] ^= 4;
        sink.inject(Arrays.copyOf(b, len));
        assertThat(SimNet.await(10, () -> net.stat(id, "rx-csum-bad") == 2)).as("%s",
                stats(id, "rx-received", "rx-verified", "rx-bad", "rx-csum-bad")).isTrue();
        assertThat(net.stat(id, "rx-verified")).isEqualTo(verified);
        assertThat(net.stat(id, "rx-l4")).isEqualTo(verified + 2);
    }

    @Test
    void offloadedFramesLoopBackVerifiedInEveryCombinationOfWhatTheGuestAdvertised() throws Exception {
        String[] rx = {"", "rx-csum=0", "rx-gso=0", "rx-csum6=0", "rx-sg=0,size=60:1514", "rx-csum=0,rx-gso=0"};
        for (int i = 0; i < rx.length; i++) {
            int domid = net.createDomain("nf-offload-loop" + i);
            DeviceId id = vif(domid, "00:16:3e:20:01:0" + i, true);
            String size = rx[i].contains("size=") ? "" : ",size=60:1514:9000:65535";
            net.startGuest(domid, "ip=10.3.1." + (i + 2) + ",queues=1,traffic=mixed,family=both,rate=2000,count=60" + size
                    + (rx[i].isEmpty() ? "" : "," + rx[i]));
            assertThat(SimNet.await(30, () -> net.stat(id, "tx-answered") == 60
                    && net.stat(id, "rx-verified") + net.stat(id, "rx-bad") + net.stat(id, "rx-csum-bad") == net.stat(id, "rx-received")
                    && net.stat(id, "rx-received") >= 60)).as("%s: %s", rx[i], stats(id, "tx-answered", "rx-received")).isTrue();
            assertThat(stats(id, "rx-bad", "rx-csum-bad", "rx-unasked-offload")).as(rx[i]).allSatisfy((k, v) -> assertThat(v).as(k).isZero());
            bus.close();
            bus = null;
        }
    }
}
