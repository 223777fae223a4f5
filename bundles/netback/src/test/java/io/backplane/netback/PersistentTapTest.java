package io.backplane.netback;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.device.DeviceId;
import io.backplane.api.log.OperatorLog;
import io.backplane.api.sink.PacketSinkFactory;
import io.backplane.api.sink.SinkRequest;
import io.backplane.backend.BackendBus;
import io.backplane.nativeio.Posix;
import io.backplane.netback.sink.SinkFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A persistent TAP (the xen feature's {@code tap.persistent}) across a netback update under a
 * running guest: netback is removed from the bus (its vif handed over) and a new netback added,
 * which adopts the vif and attaches to the same interface: same ifindex, the address the host
 * gave it still there. The interface's own counter takes exactly every frame the guest sent,
 * across the update; those a packet socket reads off it are checked byte for byte, none twice;
 * host frames written into the interface reach the guest before and after. Then the vif really
 * closes (its backend directory removed) and the interface goes with it. Needs root, /dev/net/tun and ip; skipped with the reason otherwise.
 */
class PersistentTapTest {
    private static final int AF_PACKET = 17;
    private static final int SOCK_RAW = 3;
    private static final int TEST_ETHERTYPE = 0x88B5;
    private static final int[] SIZES = {60, 1514};
    /** Unique per run: other worktrees' tests create vif TAPs of their own on this host. */
    private final String tap = "bpt" + ProcessHandle.current().pid() % 1_000_000 + "p";
    private NetReattachFixture fx;
    private BackendBus bus;
    private int packetSocket = -1;

    @BeforeEach
    void start() throws Exception {
        TapTests.assumeTapUsable(PersistentTapTest.class, false);
        fx = new NetReattachFixture();
    }

    @AfterEach
    void stop() throws Exception {
        if (packetSocket >= 0) {
            fx.net.io.close(packetSocket);
        }
        if (bus != null) {
            bus.close();
        }
        if (fx != null) {
            fx.close();
        }
        if (Files.exists(Path.of("/sys/class/net", tap))) {
            new ProcessBuilder("ip", "link", "del", tap).start().waitFor(10, TimeUnit.SECONDS);   // after a failure
        }
    }

    @Test
    void theTapSurvivesANetbackUpdateAndGoesWhenTheVifReallyCloses() throws Exception {
        SimNet net = fx.net;
        SinkFactory taps = new SinkFactory(net.io, "tap", false, true, OperatorLog.lines(System.out::println));
        PacketSinkFactory sinks = r -> taps.open(new SinkRequest(tap, r.bridge(), r.mtu()));
        int domid = net.createDomain("net-persist");
        String mac = "00:16:3e:10:02:01";
        byte[] guestMac = HexFormat.ofDelimiter(":").parseHex(mac);
        DeviceId id = new DeviceId(0, "vif", domid, 0);
        fx.offers.put(id, SimNet.offer(2));
        NetbackDriver first = fx.newDriver(sinks);
        bus = fx.newBus(net.stateDir, net.xs, first);
        net.addVif(domid, 0, mac, "", null);
        assertThat(SimNet.await(20, () -> Files.exists(Path.of("/sys/class/net", tap, "ifindex")))).as(fx.logs.toString()).isTrue();
        String ifindex = Files.readString(Path.of("/sys/class/net", tap, "ifindex")).trim();
        String address = "10.216." + domid % 250 + ".1/24";
        run("ip", "addr", "add", address, "dev", tap);

        Capture capture = new Capture(net, Integer.parseInt(ifindex), guestMac);
        // 600 frames/s in all: the packet socket's default receive buffer holds a few hundred ms of
        // them, enough for this test's JVM (niced, on a loaded host) to keep up.
        int count = 1500;
        net.startGuest(domid, "ip=10.216." + domid % 250 + ".2,queues=2,count=" + count + ",rate=500,size=60:1514");
        assertThat(SimNet.await(20, () -> "4".equals(net.read(id.backendPath() + "/state")))).as(fx.guestLog(domid)).isTrue();
        capture.exchange(id, 300, 40);

        bus.removeDriver(first);                       // a netback update: the old driver hands the vif over
        assertThat(fx.logs).anyMatch(l -> l.contains("handed over"));
        assertThat(Path.of("/sys/class/net", tap)).as("the persistent TAP while no backend serves the vif").exists();
        assertThat(net.read(id.backendPath() + "/state")).isEqualTo("4");
        int sentBefore = capture.seen.size();
        bus.addDriver(fx.newDriver(sinks));            // the new revision adopts it
        assertThat(SimNet.await(20, () -> fx.logs.stream().anyMatch(l -> l.contains("re-attached to the live rings"))))
                .as(fx.logs.toString()).isTrue();
        assertThat(Files.readString(Path.of("/sys/class/net", tap, "ifindex")).trim()).as("the same interface").isEqualTo(ifindex);
        assertThat(run("ip", "-o", "addr", "show", "dev", tap)).as("the host's address kept").contains(address);
        assertThat(fx.logs).anyMatch(l -> l.contains("interface ready: TAP " + tap + " (persistent: kept from the last backend"));
        capture.exchange(id, 300, 40);
        assertThat(capture.seen.size()).as("the guest still sent after the update").isGreaterThan(sentBefore);

        // The kernel's count of what netback wrote into the interface (it lived through the
        // update: one counter) is exact; the packet socket may miss frames when this test's JVM
        // falls behind its receive buffer, so it checks the bytes of those it got.
        assertThat(SimNet.await(30, () -> stat("rx_packets").equals(Integer.toString(2 * count))))
                .as(() -> "the interface's " + stat("rx_packets") + " rx_packets, " + stat("rx_dropped") + " rx_dropped; "
                        + capture.seen.size() + " frames read by the packet socket").isTrue();
        assertThat(stat("rx_dropped")).isEqualTo("0");
        assertThat(capture.bad).as("frames differing or seen twice").isEmpty();
        assertThat(SimNet.await(10, () -> net.stat(id, "tx-answered") == 2L * count)).as(fx.guestLog(domid)).isTrue();
        assertThat(net.stat(id, "tx-failed")).isZero();
        assertThat(net.stat(id, "rx-bad")).isZero();
        assertThat(net.read(id.frontendPath() + "/stats/connections")).as("no reconnect").isEqualTo("1");

        net.xs.rm(id.backendPath());                   // the vif really closes (xl destroy, xl network-detach)
        assertThat(SimNet.await(20, () -> !Files.exists(Path.of("/sys/class/net", tap)))).as("the TAP removed with its vif")
                .isTrue();
    }

    /** One of the TAP's interface counters, as the kernel has it. */
    private String stat(String name) {
        try {
            return Files.readString(Path.of("/sys/class/net", tap, "statistics", name)).trim();
        } catch (java.io.IOException e) {
            return "?";
        }
    }

    /** Runs a command that must succeed; its output. */
    private static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + out).isZero();
        return out;
    }

    /**
     * The host's side of the interface: an AF_PACKET socket bound to it for the test EtherType
     * reads every frame the guest sent through the TAP (checked against the netfront's pattern,
     * counted once) and writes frames into the interface for the guest.
     */
    private final class Capture {
        final Map<String, Boolean> seen = new ConcurrentHashMap<>();
        final List<String> bad = new CopyOnWriteArrayList<>();
        private final SimNet net;
        private int injected;

        Capture(SimNet net, int ifindex, byte[] guestMac) {
            this.net = net;
            packetSocket = net.io.socket(AF_PACKET, SOCK_RAW, Short.reverseBytes((short) TEST_ETHERTYPE) & 0xFFFF);
            int fd = packetSocket;
            ByteBuffer sll = ByteBuffer.allocateDirect(20).order(ByteOrder.nativeOrder());  // struct sockaddr_ll
            sll.putShort(0, (short) AF_PACKET).order(ByteOrder.BIG_ENDIAN).putShort(2, (short) TEST_ETHERTYPE)
                    .order(ByteOrder.nativeOrder()).putInt(4, ifindex);
            net.io.bind(fd, sll);
            Thread reader = new Thread(() -> {
                ByteBuffer buf = ByteBuffer.allocateDirect(65536);
                ByteBuffer scratch = ByteBuffer.allocateDirect(8);
                try {
                    while (true) {
                        if ((net.io.poll(fd, Posix.POLLIN, 200, scratch) & Posix.POLLIN) == 0) {
                            continue;
                        }
                        buf.clear();
                        int n = net.io.read(fd, buf);
                        byte[] f = new byte[Math.max(0, n)];
                        buf.get(0, f);
                        if (n < 26 || !Arrays.equals(f, 6, 12, guestMac, 0, 6)) {
                            continue;                        // our own injected frames, going out
                        }
                        ByteBuffer b = ByteBuffer.wrap(f);
                        int queue = b.getShort(18);
                        long seq = b.getInt(20);
                        if (!Arrays.equals(f, NetbackHotSwapTest.frame(guestMac, queue, seq, SIZES[(int) (seq % SIZES.length)]))
                                || seen.put(queue + "/" + seq, true) != null) {
                            bad.add(queue + "/" + seq);
                        }
                    }
                } catch (RuntimeException e) {
                    // the socket closed at the end of the test
                }
            }, "tap-capture");
            reader.setDaemon(true);
            reader.start();
        }

        /** Waits for {@code frames} more of the guest's frames, then writes {@code host} frames the guest must verify. */
        void exchange(DeviceId id, int frames, int host) throws Exception {
            long target = seen.size() + frames;
            assertThat(SimNet.await(20, () -> seen.size() >= target)).as("guest frames on the TAP: %d; %s", seen.size(), fx.logs)
                    .isTrue();
            for (int i = 0; i < host; i++, injected++) {
                byte[] f = NetbackHotSwapTest.frame(HexFormat.ofDelimiter(":").parseHex(NetReattachFixture.HOST_MAC),
                        injected % 2, 5000 + injected, SIZES[injected % SIZES.length]);
                ByteBuffer out = ByteBuffer.allocateDirect(f.length).put(f).flip();
                assertThat(net.io.write(packetSocket, out)).isEqualTo(f.length);
            }
            int sent = injected;
            assertThat(SimNet.await(20, () -> net.stat(id, "rx-verified") == sent)).as(fx.guestLog(id.frontendDomid())).isTrue();
        }
    }
}
