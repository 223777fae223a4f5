package io.backplane.netback;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.device.DeviceId;
import io.backplane.api.device.Negotiation;
import io.backplane.api.device.NegotiationPolicy;
import io.backplane.api.log.OperatorLog;
import io.backplane.api.sink.PacketSink;
import io.backplane.api.sink.SinkRequest;
import io.backplane.backend.BackendBus;
import io.backplane.netback.sink.MemorySink;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Restart under a running guest: a real netfront guest process sends on 2 queues while
 * backend-core's bus with netback is closed with {@code keepDevices} (a graceful handover) and a
 * new bus with a new netback driver adopts the vif from XenStore, several times. Every frame the
 * guest sent reaches the host once, byte for byte; every host frame injected is verified by the
 * guest; the guest connected once. The host side stands for a TAP that outlives the process (a
 * bridge port re-joined): one sink behind every driver's opening of it.
 */
class NetReattachTest {
    static final int RESTARTS = 3;
    SimNet net;
    final List<String> logs = new CopyOnWriteArrayList<>();
    final Map<String, MemorySink> hosts = new ConcurrentHashMap<>();
    final Map<DeviceId, Map<String, String>> offers = new ConcurrentHashMap<>();
    BackendBus bus;

    @BeforeEach
    void start() throws Exception {
        net = new SimNet();
    }

    @AfterEach
    void stop() throws Exception {
        if (bus != null) {
            bus.close();
        }
        net.close();
    }

    @Test
    void aVifKeepsItsRingsWhileTheBackendRestartsUnderIt() throws Exception {
        int domid = net.createDomain("net-reattach");
        String mac = "00:16:3e:10:00:09";
        byte[] src = HexFormat.ofDelimiter(":").parseHex(mac);
        DeviceId id = new DeviceId(0, "vif", domid, 0);
        offers.put(id, SimNet.offer(2));
        bus = newBus();
        net.addVif(domid, 0, mac, "xenbr0", null);
        int[] sizes = {60, 1514, 4000, 9000};
        int count = 8000;
        net.startGuest(domid, "ip=10.1.0.9,queues=2,count=" + count + ",rate=3000,size=60:1514:4000:9000");
        assertThat(SimNet.await(20, () -> "4".equals(net.read(id.backendPath() + "/state")))).as(guestLog(domid)).isTrue();
        MemorySink host = hosts.get("vif" + domid + ".0");

        Map<String, Boolean> seen = new ConcurrentHashMap<>();
        List<String> bad = new CopyOnWriteArrayList<>();
        Thread drain = new Thread(() -> {
            try {
                while (seen.size() < 2 * count) {
                    byte[] f = host.takeTransmitted(20_000);
                    if (f == null) {
                        return;
                    }
                    ByteBuffer b = ByteBuffer.wrap(f);
                    int queue = b.getShort(18);
                    long seq = b.getInt(20);
                    if (!java.util.Arrays.equals(f, NetbackHotSwapTest.frame(src, queue, seq, sizes[(int) (seq % sizes.length)]))
                            || seen.put(queue + "/" + seq, true) != null) {
                        bad.add(queue + "/" + seq);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        drain.start();

        int injected = 0;
        int midTraffic = 0;
        for (int restart = 0; restart <= RESTARTS; restart++) {
            long target = seen.size() + 300;
            assertThat(SimNet.await(20, () -> seen.size() >= Math.min(target, 2L * count - 1))).as(logs.toString()).isTrue();
            for (int i = 0; i < 40; i++, injected++) {
                assertThat(host.inject(NetbackHotSwapTest.frame(HexFormat.ofDelimiter(":").parseHex("00:16:3e:99:99:99"),
                        injected % 2, 5000 + injected, sizes[injected % sizes.length]))).isTrue();
            }
            // Host frames still in the old process's backlog at a stop are dropped (docs): hand
            // over once the guest has them, so every injected frame must arrive.
            int sent = injected;
            assertThat(SimNet.await(20, () -> net.stat(id, "rx-verified") == sent)).as(guestLog(domid)).isTrue();
            if (restart < RESTARTS) {
                midTraffic += seen.size() < 2L * count ? 1 : 0;
                for (String ring : List.of("queue-0-tx", "queue-0-rx", "queue-1-tx", "queue-1-rx")) {
                    assertThat(net.stateDir.resolve("devices/vif/" + domid + "/0/" + ring + ".requests")).as("request mirror").exists();
                }
                bus.close();                               // keepDevices: answered, unmapped, left Connected
                assertThat(net.read(id.backendPath() + "/state")).isEqualTo("4");
                bus = newBus();                            // a new bus and driver adopt the vif from XenStore
            }
        }
        drain.join(30_000);
        assertThat(midTraffic).as("restarts while the guest was still sending").isGreaterThanOrEqualTo(2);
        assertThat(bad).as("frames differing or seen twice").isEmpty();
        assertThat(seen).as("host dropped %d; %s", host.dropped(), logs).hasSize(2 * count);
        assertThat(SimNet.await(10, () -> net.stat(id, "tx-answered") == 2L * count)).isTrue();
        assertThat(net.stat(id, "tx-failed")).isZero();
        assertThat(net.stat(id, "rx-bad")).isZero();
        assertThat(net.read(id.frontendPath() + "/stats/connections")).as("no reconnect").isEqualTo("1");
        assertThat(logs.stream().filter(l -> l.contains("re-attached to the live rings")).count()).isEqualTo(RESTARTS);
        assertThat(logs).noneMatch(l -> l.contains("fatal"));
    }

    private String guestLog(int domid) throws Exception {
        return Files.exists(net.guestLog(domid)) ? Files.readString(net.guestLog(domid)) : "";
    }

    private BackendBus newBus() {
        NegotiationPolicy policy = new NegotiationPolicy() {
            @Override
            public Negotiation negotiate(DeviceId device) {
                Negotiation n = preview(device);
                net.xs.transaction(tx -> {
                    n.offer().forEach((k, v) -> tx.write(device.backendPath() + "/" + k, v));
                    return null;
                });
                return n;
            }

            @Override
            public Negotiation preview(DeviceId device) {
                return new Negotiation(device, offers.get(device), List.of(), Set.of(), false);
            }
        };
        BackendBus b = new BackendBus(net.xs, policy, OperatorLog.lines(l -> {
            logs.add(l);
            System.out.println("backend: " + l);
        }), new BackendBus.Options(0, true, true, net.stateDir));
        b.addDriver(new NetbackDriver(RealRings.all(net.sim), net.sim, (SinkRequest r) -> new Opening(
                hosts.computeIfAbsent(r.name(), n -> new MemorySink(n, false, "test", 1 << 15))),
                NetbackDriver.Settings.defaults()));
        return b;
    }

    /** One driver's opening of the host end: closing it ends this opening, not the host's queues. */
    static final class Opening implements PacketSink {
        private final MemorySink host;
        private volatile boolean closed;

        Opening(MemorySink host) {
            this.host = host;
        }

        @Override
        public String name() {
            return host.name();
        }

        @Override
        public String describe() {
            return host.describe();
        }

        @Override
        public void transmit(ByteBuffer frame) {
            host.transmit(frame);
        }

        @Override
        public int receive(ByteBuffer frame, int timeoutMillis) {
            return closed ? -1 : host.receive(frame, timeoutMillis);
        }

        @Override
        public int awaitFrame(int timeoutMillis) {
            return closed ? -1 : host.awaitFrame(timeoutMillis);
        }

        @Override
        public int receive(ByteBuffer[] parts, int from, int count) {
            return closed ? -1 : host.receive(parts, from, count);
        }

        @Override
        public void acceptOffloads(boolean checksum, boolean tcpv4, boolean tcpv6) {
            host.acceptOffloads(checksum, tcpv4, tcpv6);
        }

        @Override
        public void close() {
            closed = true;
        }
    }
}
