package io.backplane.netback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.backplane.api.device.DeviceId;
import io.backplane.api.sink.PacketSink;
import io.backplane.api.sink.SinkRequest;
import io.backplane.netback.sink.MemorySink;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * netback against the netfront of a real guest process, through the sim hypervisor and a real
 * XenStore daemon: frames both ways byte for byte, Linux's refusal of too many queues, and a
 * misbehaving frontend disabling only its own vif.
 */
class NetbackSimTest {
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

    /** backend-core's xenbus lifecycle serving a netback whose interfaces are the test's in-memory sinks. */
    private NetbackBus bus() {
        return bus(new NetbackDriver(RealRings.grantCopy(net.sim), net.sim,
                (SinkRequest r) -> sinks.computeIfAbsent(r.name(), n -> new MemorySink(n, false, "test")),
                NetbackDriver.Settings.defaults()));
    }

    private NetbackBus bus(NetbackDriver driver) {
        if (bus == null) {
            bus = new NetbackBus(net.xs, driver);
        }
        return bus;
    }

    /** A vif as libxl creates it, served by the bus with an offer of {@code maxQueues} queues. */
    private DeviceId vif(int domid, int devid, String mac, String netOptions, int maxQueues) {
        bus().offer(domid, devid, maxQueues);
        return net.addVif(domid, devid, mac, "", netOptions);
    }

    static byte[] mac(String mac) {
        return HexFormat.ofDelimiter(":").parseHex(mac);
    }

    /** The frame the netfront builds for (queue, seq, length): see Frames in the guest. */
    static byte[] expectedFrame(byte[] src, int queue, long seq, int length) {
        ByteBuffer b = ByteBuffer.allocate(length);
        b.put(new byte[] {-1, -1, -1, -1, -1, -1}).put(src).putShort((short) 0x88B5);
        b.putInt(0x42504E46).putShort((short) queue).putInt((int) seq).putShort((short) length);
        for (int i = 26; i < length; i++) {
            b.put((byte) (seq * 31 + i));
        }
        return b.array();
    }

    private String state(DeviceId id, boolean backend) {
        return net.read((backend ? id.backendPath() : id.frontendPath()) + "/state");
    }

    private String guestLog(int domid) throws Exception {
        return Files.exists(net.guestLog(domid)) ? Files.readString(net.guestLog(domid)) : "";
    }

    @Test
    void framesCrossBothWaysByteForByteOnTwoQueues() throws Exception {
        int domid = net.createDomain("net-frames");
        String mac = "00:16:3e:10:00:01";
        bus().offer(domid, 0, 2);
        DeviceId id = net.addVif(domid, 0, mac, "xenbr0", null);
        int[] sizes = {60, 1514, 4000, 9000};
        int count = 40;
        net.startGuest(domid, "ip=10.1.0.2,queues=4,count=" + count + ",rate=2000,size=60:1514:4000:9000");

        boolean connected = SimNet.await(20, () -> "4".equals(state(id, true)));
        assertThat(connected).as("backend Connected; guest log:\n%s", guestLog(domid)).isTrue();
        assertThat(state(id, false)).isEqualTo("4");
        assertThat(net.read(id.frontendPath() + "/multi-queue-num-queues")).as("min(own 4, offered 2)").isEqualTo("2");
        assertThat(net.read(id.frontendPath() + "/queue-1/event-channel-tx")).isNotEmpty();
        assertThat(net.read(id.frontendPath() + "/request-rx-copy")).isEqualTo("1");

        MemorySink sink = sinks.get("vif" + domid + ".0");
        Map<String, byte[]> seen = new ConcurrentHashMap<>();
        for (int i = 0; i < 2 * count; i++) {
            byte[] f = sink.takeTransmitted(10_000);
            assertThat(f).as("frame %d of %d from the guest; guest log:\n%s", i, 2 * count, guestLog(domid)).isNotNull();
            ByteBuffer b = ByteBuffer.wrap(f);
            int queue = b.getShort(18);
            long seq = b.getInt(20);
            assertThat(f).isEqualTo(expectedFrame(mac(mac), queue, seq, sizes[(int) (seq % sizes.length)]));
            assertThat(seen.put(queue + "/" + seq, f)).as("frame %d/%d delivered once", queue, seq).isNull();
        }
        assertThat(seen.keySet().stream().map(k -> k.split("/")[0]).distinct()).containsExactlyInAnyOrder("0", "1");
        assertThat(SimNet.await(10, () -> net.stat(id, "tx-answered") == 2L * count)).isTrue();
        assertThat(net.stat(id, "tx-failed")).isZero();

        // Host to guest: test frames of every size, spread over both queues by their hash.
        for (int i = 0; i < 50; i++) {
            byte[] f = expectedFrame(mac("00:16:3e:99:99:99"), i % 2, 1000 + i, sizes[i % sizes.length]);
            assertThat(sink.inject(f)).isTrue();
        }
        assertThat(SimNet.await(10, () -> net.stat(id, "rx-verified") == 50)).as("guest verified all 50; log:\n%s",
                guestLog(domid)).isTrue();
        assertThat(net.stat(id, "rx-bad")).isZero();

        // ARP for the guest's address is answered through the ring.
        byte[] arp = HexFormat.of().parseHex("ffffffffffff00163e9999990806000108000604000100163e9999990a010001"
                + "0000000000000a010002");
        sink.inject(arp);
        byte[] reply = sink.takeTransmitted(10_000);
        assertThat(reply).isNotNull();
        assertThat(HexFormat.of().formatHex(reply)).isEqualTo("00163e999999" + mac.replace(":", "") + "0806000108000604"
                + "0002" + mac.replace(":", "") + "0a010002" + "00163e9999990a010001");
        assertThat(bus.status(id)).containsEntry("queues", "2").containsEntry("strategy", "grant-copy");
    }

    @Test
    void moreQueuesThanOfferedIsRefusedAsLinuxDoes() throws Exception {
        int domid = net.createDomain("net-queues");
        DeviceId id = vif(domid, 0, "00:16:3e:10:00:02", "force-queues=4", 2);
        net.startGuest(domid, "");
        assertThat(SimNet.await(20, () -> "6".equals(state(id, false)))).as("frontend Closed; log:\n%s", guestLog(domid)).isTrue();
        assertThat(net.read(id.backendPath() + "/error")).isEqualTo("guest requested 4 queues, but valid range is 1 - 2.");
        assertThat(SimNet.await(10, () -> "6".equals(state(id, true)))).isTrue();
        Thread.sleep(500);
        assertThat(state(id, false)).as("a refused frontend stays closed").isEqualTo("6");
    }

    @Test
    void crossPageRequestDisablesOnlyThatVif() throws Exception {
        misbehaving("cross-page", "Cross page boundary, txreq.offset: 4000, size: 200");
    }

    @Test
    void tooManySlotsDisablesOnlyThatVif() throws Exception {
        misbehaving("slots", "Malicious frontend using 20 slots, threshold 20");
    }

    private void misbehaving(String bogus, String expected) throws Exception {
        int domid = net.createDomain("net-bogus-" + bogus);
        DeviceId good = vif(domid, 0, "00:16:3e:10:00:03", null, 1);
        DeviceId bad = vif(domid, 1, "00:16:3e:10:00:04", "bogus=" + bogus, 1);
        net.startGuest(domid, "");
        assertThat(SimNet.await(20, () -> "4".equals(state(good, true)))).as("good vif connected; log:\n%s", guestLog(domid)).isTrue();
        assertThat(SimNet.await(20, () -> !net.read(bad.backendPath() + "/error").isEmpty()))
                .as("bad vif disabled; log:\n%s", guestLog(domid)).isTrue();
        assertThat(net.read(bad.backendPath() + "/error")).contains(expected);
        assertThat(SimNet.await(10, () -> "6".equals(state(bad, false)))).isTrue();

        // The good vif goes on carrying frames.
        MemorySink sink = sinks.get("vif" + domid + ".0");
        for (int i = 0; i < 20; i++) {
            sink.inject(expectedFrame(mac("00:16:3e:99:99:99"), 0, i, 100));
        }
        assertThat(SimNet.await(10, () -> net.stat(good, "rx-verified") == 20)).isTrue();
        assertThat(state(good, true)).isEqualTo("4");
        assertThat(net.read(good.backendPath() + "/error")).isEmpty();
    }

    @Test
    void packetOverTwentySlotsIsDroppedAndTheVifGoesOn() throws Exception {
        int domid = net.createDomain("net-drop");
        DeviceId id = vif(domid, 0, "00:16:3e:10:00:05", "bogus=drop-slots", 1);
        net.startGuest(domid, "");
        assertThat(SimNet.await(20, () -> net.stat(id, "tx-failed") == 1)).as("dropped with errors; log:\n%s",
                guestLog(domid)).isTrue();
        MemorySink sink = sinks.get("vif" + domid + ".0");
        sink.inject(expectedFrame(mac("00:16:3e:99:99:99"), 0, 7, 200));
        assertThat(SimNet.await(10, () -> net.stat(id, "rx-verified") == 1)).isTrue();
        assertThat(state(id, true)).isEqualTo("4");
        assertThat(net.read(id.backendPath() + "/error")).isEmpty();
        assertThat(sink.takeTransmitted(200)).as("nothing of the dropped packet reached the host").isNull();
    }

    @Test
    void frontendReconnectsAfterTheBackendWentThroughClosing() throws Exception {
        int domid = net.createDomain("net-reconnect");
        DeviceId id = vif(domid, 0, "00:16:3e:10:00:06", null, 2);
        net.startGuest(domid, "queues=2,count=10,rate=1000,size=100");
        assertThat(SimNet.await(20, () -> net.stat(id, "tx-answered") == 20)).as("log:\n%s", guestLog(domid)).isTrue();
        int pinned = net.sim.pinnedGrants(domid);
        assertThat(pinned).as("TX and RX ring of each queue mapped").isEqualTo(4);

        // Backend Closing; frontend Closing, Closed; backend Closed; frontend Initialising; InitWait; Connected.
        bus.reconnect(id);
        assertThat(SimNet.await(20, () -> net.stat(id, "connections") == 2 && "4".equals(state(id, true))
                && "4".equals(state(id, false)))).as("reconnected; log:\n%s", guestLog(domid)).isTrue();
        assertThat(guestLog(domid)).contains("netfront vif/0: disconnected (backend is closing), 2 queues torn down");
        assertThat(net.sim.pinnedGrants(domid)).as("the first connection's rings were unmapped").isEqualTo(4);
        assertThat(SimNet.await(20, () -> net.stat(id, "tx-answered") == 40)).as("second connection's traffic").isTrue();
        MemorySink sink = sinks.get("vif" + domid + ".0");
        for (int i = 0; i < 2 * 10 * 2; i++) {
            assertThat(sink.takeTransmitted(5000)).isNotNull();
        }
        assertThat(net.stat(id, "tx-failed")).isZero();
    }

    @Test
    void queueWorkersArePinnedToTheConfiguredCpus() throws Exception {
        int domid = net.createDomain("net-affinity");
        bus(new NetbackDriver(RealRings.grantCopy(net.sim), net.sim,
                (SinkRequest r) -> new MemorySink(r.name(), true, "loopback"),
                new NetbackDriver.Settings(20, List.of("0", "1")))).offer(domid, 0, 2);
        DeviceId id = net.addVif(domid, 0, "00:16:3e:10:00:07", "", null);
        net.startGuest(domid, "count=50,rate=5000,size=300");
        assertThat(SimNet.await(20, () -> net.stat(id, "rx-verified") == 100)).as("loopback: the guest's frames come back; log:\n%s",
                guestLog(domid)).isTrue();
        Map<String, String> status = bus.status(id);
        int cpus = Runtime.getRuntime().availableProcessors();
        assertThat(status.get("queue-0/cpus")).isEqualTo("0 (allowed: 0)");
        assertThat(status.get("queue-1/cpus")).isEqualTo(cpus > 1 ? "1 (allowed: 1)" : status.get("queue-1/cpus"));
        assertThat(status.get("queue-0/tx-packets")).isEqualTo("50");
    }

    @Test
    void aDomainsOwnCpuSetsOverrideTheGlobalOnes() throws Exception {
        assumeTrue(Runtime.getRuntime().availableProcessors() > 1, "needs two CPUs to tell the sets apart");
        int domid = net.createDomain("net-placed");
        // Globally queue K goes to CPU K; this guest (by name) has both queues on CPU 1, and an
        // entry for another domain id changes nothing here.
        bus(new NetbackDriver(RealRings.grantCopy(net.sim), net.sim,
                (SinkRequest r) -> new MemorySink(r.name(), true, "loopback"),
                new NetbackDriver.Settings(20, List.of("0", "1"),
                        Map.of("net-placed", List.of("1"), Integer.toString(domid + 100), List.of("0"))))).offer(domid, 0, 2);
        DeviceId id = net.addVif(domid, 0, "00:16:3e:10:00:0a", "", null);
        net.startGuest(domid, "count=20,rate=5000,size=300");
        assertThat(SimNet.await(20, () -> net.stat(id, "rx-verified") == 40)).as("loopback; log:\n%s",
                guestLog(domid)).isTrue();
        Map<String, String> status = bus.status(id);
        assertThat(status.get("queue-0/cpus")).isEqualTo("1 (allowed: 1)");
        assertThat(status.get("queue-1/cpus")).isEqualTo("1 (allowed: 1)");
    }

    @Test
    void aBadPerDomainCpuEntryIsRefusedWithItsText() {
        assertThatThrownBy(() -> new NetbackDriver.Settings(20, List.of(), Map.of("web", List.of("0,a"))))
                .hasMessageContaining("CPU set '0,a' is not a cpulist");
    }

    @Test
    void destroyingTheGuestMidTrafficLeavesNoChannelOrWorkerBehind() throws Exception {
        int portsBefore = net.sim.dom0PortsInUse();
        int domid = net.createDomain("net-destroy");
        DeviceId id = vif(domid, 0, "00:16:3e:10:00:08", null, 2);
        net.startGuest(domid, "queues=2,count=1000000,rate=20000,size=1000");
        assertThat(SimNet.await(20, () -> net.stat(id, "tx-answered") > 1000)).as("log:\n%s", guestLog(domid)).isTrue();
        assertThat(net.sim.dom0PortsInUse()).isEqualTo(portsBefore + 4);

        net.sim.destroy(domid);
        net.xs.rm(id.backendPath());                 // libxl's destroy: the core removes the device
        assertThat(SimNet.await(10, () -> !bus.serves(id))).isTrue();
        assertThat(SimNet.await(5, () -> net.sim.dom0PortsInUse() == portsBefore)).as("every event channel closed").isTrue();
        assertThat(SimNet.await(5, () -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().startsWith("vif" + domid + ".0")))).as("queue workers and sink reader gone").isTrue();
        assertThat(bus.logText(id)).as("a destroyed guest is not a malicious one").doesNotContain("malicious");
    }

    @Test
    void detachAsLibxlDoesClosesBothEnds() throws Exception {
        int domid = net.createDomain("net-detach");
        DeviceId id = vif(domid, 0, "00:16:3e:10:00:09", null, 1);
        net.startGuest(domid, "count=5,rate=1000,size=100");
        assertThat(SimNet.await(20, () -> net.stat(id, "tx-answered") == 5)).as("log:\n%s", guestLog(domid)).isTrue();
        // libxl: online=0 and Closing in the backend; the frontend closes; then both directories go.
        net.xs.transaction(tx -> {
            tx.write(id.backendPath() + "/online", "0");
            tx.write(id.backendPath() + "/state", "5");
            return null;
        });
        assertThat(SimNet.await(10, () -> "6".equals(state(id, false)))).isTrue();
        Thread.sleep(300);
        assertThat(state(id, false)).as("offline: no reconnect").isEqualTo("6");
        net.xs.rm(id.frontendPath());
        net.xs.rm(id.backendPath());
        assertThat(SimNet.await(10, () -> {
            try {
                return guestLog(domid).contains("netfront vif/0: totals {tx-sent=5, tx-answered=5, tx-failed=0");
            } catch (Exception e) {
                return false;
            }
        })).as("the guest closed its netfront; log:\n%s", guestLog(domid)).isTrue();
        assertThat(net.xs.exists(id.frontendPath())).as("nothing re-created the frontend directory").isFalse();
    }

    @Test
    void rateKeyLimitsTransmitWithNetbacksCreditScheduler() throws Exception {
        int domid = net.createDomain("net-rate");
        bus().offer(domid, 0, 1);
        DeviceId id = net.addVif(domid, 0, "00:16:3e:10:00:0a", "", null,
                Map.of("rate", "20000,50000"));                        // libxl's form of rate=400KB/s
        net.startGuest(domid, "count=100,rate=0,size=1000");
        assertThat(SimNet.await(20, () -> net.stat(id, "tx-answered") == 100)).as("log:\n%s", guestLog(domid)).isTrue();
        Map<String, String> status = bus.status(id);
        assertThat(status).containsEntry("queue-0/rate", "20000 bytes per 50000 us");
        assertThat(Long.parseLong(status.get("queue-0/credit-waits"))).as("100 kB through 20 kB of credit per period")
                .isPositive();
        assertThat(status).containsEntry("queue-0/tx-packets", "100");
    }
}
