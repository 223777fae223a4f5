package io.backplane.netback;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.device.DeviceId;
import io.backplane.api.log.OperatorLog;
import io.backplane.api.sink.PacketSink;
import io.backplane.api.sink.PacketSinkFactory;
import io.backplane.api.sink.SinkRequest;
import io.backplane.api.xenstore.XenStore;
import io.backplane.backend.BackendBus;
import io.backplane.netback.sink.MemorySink;
import io.backplane.xenstore.client.EmbeddedXenStore;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * What the vif re-attach tests share: the sim with netfront guest processes sending on 2 queues,
 * buses with netback that hand their vifs over ({@code keepDevices}), host ends that outlive
 * each driver's opening of them (a TAP on a bridge), and the counting of every frame both ways.
 */
final class NetReattachFixture implements AutoCloseable {
    static final int[] SIZES = {60, 1514, 4000, 9000};
    static final String HOST_MAC = "00:16:3e:99:99:99";

    final SimNet net;
    final List<String> logs = new CopyOnWriteArrayList<>();
    final Map<String, MemorySink> hosts = new ConcurrentHashMap<>();
    final Map<DeviceId, Map<String, String>> offers = new ConcurrentHashMap<>();
    private final List<EmbeddedXenStore> connections = new CopyOnWriteArrayList<>();

    NetReattachFixture() throws Exception {
        net = new SimNet();
    }

    /** A bus with a new netback driver on the sim's state directory, handing its vifs over when it closes. */
    BackendBus newBus() {
        return newBus(net.stateDir, net.xs);
    }

    /**
     * A standby's bus: on a state directory of its own and a XenStore connection of its own (as
     * another process would have: two buses watch the same directories).
     */
    BackendBus newStandbyBus(Path stateDir) {
        EmbeddedXenStore xs = new EmbeddedXenStore(net.store);
        connections.add(xs);
        return newBus(stateDir, xs);
    }

    private BackendBus newBus(Path stateDir, XenStore xs) {
        BackendBus b = newBus(stateDir, xs, null);
        b.addDriver(newDriver((SinkRequest r) -> new Opening(hosts.computeIfAbsent(r.name(), n -> new MemorySink(n, false, "test", 1 << 15)))));
        return b;
    }

    /** A bus on the sim's state directory with {@code driver} (none: add one later), handing its devices over when it closes. */
    BackendBus newBus(Path stateDir, XenStore xs, NetbackDriver driver) {
        BackendBus b = new BackendBus(xs, new NetbackBus.FixedOffers(xs, offers), OperatorLog.lines(l -> {
            logs.add(l);
            System.out.println("backend: " + l);
        }), new BackendBus.Options(0, true, true, stateDir));
        if (driver != null) {
            b.addDriver(driver);
        }
        return b;
    }

    /** A netback driver on every ring strategy, its queues' buffers in anonymous memory (as in the runtime). */
    NetbackDriver newDriver(PacketSinkFactory sinks) {
        return new NetbackDriver(RealRings.all(net.sim), net.sim, sinks, net.io, NetbackDriver.Settings.defaults());
    }

    String guestLog(int domid) throws Exception {
        return net.guestOutput(domid);
    }

    /**
     * One vif's traffic, counted: the guest (MAC {@code mac}) sends {@code count} frames per
     * queue on 2 queues, each checked byte for byte and counted once as the host takes it; the
     * host injects frames the guest verifies.
     */
    final class Traffic {
        final DeviceId id;
        final int count;
        final MemorySink host;
        final Map<String, Boolean> seen = new ConcurrentHashMap<>();
        final List<String> bad = new CopyOnWriteArrayList<>();
        private final Thread drain;
        private int injected;

        Traffic(DeviceId id, String mac, int count) {
            this.id = id;
            this.count = count;
            this.host = hosts.get("vif" + id.frontendDomid() + "." + id.devid());
            byte[] src = HexFormat.ofDelimiter(":").parseHex(mac);
            drain = new Thread(() -> {
                try {
                    while (seen.size() < 2 * count) {
                        byte[] f = host.takeTransmitted(20_000);
                        if (f == null) {
                            return;
                        }
                        ByteBuffer b = ByteBuffer.wrap(f);
                        int queue = b.getShort(18);
                        long seq = b.getInt(20);
                        if (!java.util.Arrays.equals(f, NetbackHotSwapTest.frame(src, queue, seq, SIZES[(int) (seq % SIZES.length)]))
                                || seen.put(queue + "/" + seq, true) != null) {
                            bad.add(queue + "/" + seq);
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            drain.start();
        }

        /** True while the guest still sends (more than {@code margin} frames to go). */
        boolean sending(int margin) {
            return seen.size() < 2L * count - margin;
        }

        /**
         * Waits for 300 more of the guest's frames, then injects 40 host frames and waits until
         * the guest verified them all (host frames still in a stopping backend's backlog are
         * dropped, docs: a handover comes once the guest has them).
         */
        void exchange() throws Exception {
            long target = seen.size() + 300;
            assertThat(SimNet.await(20, () -> seen.size() >= Math.min(target, 2L * count - 1))).as(logs.toString()).isTrue();
            for (int i = 0; i < 40; i++, injected++) {
                assertThat(host.inject(NetbackHotSwapTest.frame(HexFormat.ofDelimiter(":").parseHex(HOST_MAC),
                        injected % 2, 5000 + injected, SIZES[injected % SIZES.length]))).isTrue();
            }
            int sent = injected;
            assertThat(SimNet.await(20, () -> net.stat(id, "rx-verified") == sent)).as(guestLog(id.frontendDomid())).isTrue();
        }

        /** Every guest frame reached the host once intact, every TX answered OKAY, no bad RX, one connection. */
        void checkAllArrived(long drainMillis) throws Exception {
            drain.join(drainMillis);
            assertThat(bad).as("frames differing or seen twice").isEmpty();
            assertThat(seen).as("host dropped %d; %s", host.dropped(), logs).hasSize(2 * count);
            assertThat(SimNet.await(10, () -> net.stat(id, "tx-answered") == 2L * count)).as(guestLog(id.frontendDomid())).isTrue();
            assertThat(net.stat(id, "tx-failed")).isZero();
            assertThat(net.stat(id, "rx-bad")).isZero();
            assertThat(net.read(id.frontendPath() + "/stats/connections")).as("no reconnect").isEqualTo("1");
        }
    }

    @Override
    public void close() throws Exception {
        connections.forEach(EmbeddedXenStore::close);
        net.close();
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
