package io.backplane.netback;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.device.DeviceId;
import io.backplane.api.log.OperatorLog;
import io.backplane.nativeio.NativeIo;
import io.backplane.netback.sink.SinkFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The host pings the guest through the vif's real TAP device: the host's ARP request and ICMP
 * echo go through netback's RX path into the guest process, the guest's answers through the TX
 * path back out of the TAP. Needs root, /dev/net/tun, ip and ping; skipped with the reason otherwise.
 */
class TapPingTest {
    static SimNet net;

    @BeforeAll
    static void start() throws Exception {
        TapTests.assumeTapUsable(TapPingTest.class, true);
        net = new SimNet();
    }

    @AfterAll
    static void stop() throws Exception {
        if (net != null) {
            net.close();
        }
    }

    /** netback whose interfaces must be TAP devices (no in-memory fallback). */
    private static NetbackDriver tapNetback() {
        return new NetbackDriver(RealRings.grantCopy(net.sim), net.sim,
                new SinkFactory(new NativeIo(), "tap", false, OperatorLog.lines(System.out::println)), NetbackDriver.Settings.defaults());
    }

    private static Result run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), out);
    }

    record Result(int exit, String out) {
    }

    @Test
    void hostPingsTheGuestThroughTheTapDevice() throws Exception {
        int domid = net.createDomain("net-ping");
        String tap = "vif" + domid + ".0";
        try (NetbackBus bus = new NetbackBus(net.xs, tapNetback())) {
            bus.offer(domid, 0, 2);
            DeviceId id = net.addVif(domid, 0, "00:16:3e:20:00:01", "xenbr-none", null);
            assertThat(SimNet.await(10, () -> bus.probed(id))).isTrue();
            assertThat(bus.status(id).get("sink")).isEqualTo("TAP " + tap + " (bridge xenbr-none does not exist: not bridged)");
            assertThat(Path.of("/sys/class/net", tap)).exists();
            // Linux xen-netback's address for dom0's end, so a TAP created anew keeps the guest's neighbour entry valid.
            assertThat(Files.readString(Path.of("/sys/class/net", tap, "address")).trim()).isEqualTo("fe:ff:ff:ff:ff:ff");
            String subnet = "10.213." + (domid % 250);
            assertThat(run("ip", "addr", "add", subnet + ".1/24", "dev", tap).exit()).isZero();
            net.startGuest(domid, "ip=" + subnet + ".2");
            assertThat(SimNet.await(20, () -> "4".equals(net.read(id.backendPath() + "/state")))).as(net.guestOutput(domid)).isTrue();

            Result ping = run("ping", "-c", "3", "-i", "0.2", "-W", "2", "-I", tap, subnet + ".2");
            assertThat(ping.exit()).as(ping.out()).isZero();
            assertThat(ping.out()).contains("3 received");
            assertThat(SimNet.await(5, () -> net.stat(id, "icmp-replies") >= 3)).isTrue();
            assertThat(net.stat(id, "arp-replies")).isPositive();
            System.out.println(ping.out());
        }
        assertThat(Path.of("/sys/class/net", tap)).as("TAP removed with the device").doesNotExist();
    }

    /**
     * Zero copy through a real TAP device: the guest's echo replies are written to the TAP with one
     * writev from its own mapped pages (tx-zero-copy counts them), and the host's ping, which
     * checks every reply's ICMP checksum and payload, sees them all.
     */
    @Test
    void zeroCopyRepliesAreWrittenToTheTapFromTheGuestsPages() throws Exception {
        int domid = net.createDomain("net-ping-zc");
        String tap = "vif" + domid + ".0";
        try (NetbackBus bus = new NetbackBus(net.xs, new NetbackDriver(RealRings.zeroCopyFirst(net.sim), net.sim,
                new SinkFactory(new NativeIo(), "tap", false, OperatorLog.lines(System.out::println)), NetbackDriver.Settings.defaults()))) {
            bus.offer(domid, 0, 1, Map.of("feature-persistent", "1"));
            DeviceId id = net.addVif(domid, 0, "00:16:3e:20:00:03", "xenbr-none", null);
            assertThat(SimNet.await(10, () -> bus.probed(id))).isTrue();
            String subnet = "10.214." + (domid % 250);
            assertThat(run("ip", "addr", "add", subnet + ".1/24", "dev", tap).exit()).isZero();
            net.startGuest(domid, "ip=" + subnet + ".2");
            assertThat(SimNet.await(20, () -> "4".equals(net.read(id.backendPath() + "/state")))).as(net.guestOutput(domid)).isTrue();
            assertThat(bus.status(id)).containsEntry("strategy", "zero-copy");

            Result ping = run("ping", "-c", "4", "-i", "0.2", "-W", "2", "-s", "1400", "-p", "5a3c", "-I", tap, subnet + ".2");
            assertThat(ping.exit()).as(ping.out()).isZero();
            assertThat(ping.out()).contains("4 received");
            assertThat(Long.parseLong(bus.status(id).get("queue-0/tx-zero-copy"))).as(bus.status(id).toString())
                    .isGreaterThanOrEqualTo(4);
        }
    }

    @Test
    void tapJoinsTheBridgeNamedInTheBackend() throws Exception {
        String bridge = "bpbr-test" + ProcessHandle.current().pid() % 1000;
        run("ip", "link", "del", bridge);           // one a killed run left with the same pid suffix (seen once)
        assertThat(run("ip", "link", "add", bridge, "type", "bridge").exit()).isZero();
        try {
            int domid = net.createDomain("net-bridge");
            try (NetbackBus bus = new NetbackBus(net.xs, tapNetback())) {
                bus.offer(domid, 0, 1);
                DeviceId id = net.addVif(domid, 0, "00:16:3e:20:00:02", bridge, null, Map.of("mtu", "9000"));
                // This probe runs two ip commands (MTU, bridge), each allowed 10 s by TapSink: on a
                // loaded host a process start alone can take seconds.
                assertThat(SimNet.await(30, () -> bus.probed(id))).as(() -> "probed; log:\n" + bus.logText(id)).isTrue();
                String tap = "vif" + domid + ".0";
                assertThat(bus.status(id).get("sink")).isEqualTo("TAP " + tap + ", MTU 9000 on bridge " + bridge);
                assertThat(Files.readString(Path.of("/sys/class/net", tap, "mtu")).trim()).isEqualTo("9000");
                assertThat(Files.readSymbolicLink(Path.of("/sys/class/net", tap, "master")).getFileName().toString())
                        .isEqualTo(bridge);
            }
        } finally {
            run("ip", "link", "del", bridge);
        }
    }
}
