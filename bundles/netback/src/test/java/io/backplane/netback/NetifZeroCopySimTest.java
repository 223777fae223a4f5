package io.backplane.netback;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.device.DeviceId;
import io.backplane.api.sink.SinkRequest;
import io.backplane.netback.sink.MemorySink;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The zero-copy strategy on a vif, end to end: the real xenbus core, netback with every strategy
 * registered and zero-copy ranked first (its ranking is configuration), and a netfront guest
 * process reusing its grants. TX frames go to the sink from the guest's mapped pages (one
 * gathering call each, no batch copy); every frame is checked byte for byte both ways.
 */
class NetifZeroCopySimTest {
    static final int[] SIZES = NetifRingsSimTest.SIZES;
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

    private String log(int domid) throws Exception {
        return net.guestOutput(domid);
    }

    @Test
    void txFramesGoToTheSinkFromTheGuestsPagesAndEveryFrameArrivesIntact() throws Exception {
        bus = new NetbackBus(net.xs, new NetbackDriver(RealRings.zeroCopyFirst(net.sim), net.sim,
                (SinkRequest r) -> sinks.computeIfAbsent(r.name(), n -> new MemorySink(n, false, "test", 1 << 15)),
                NetbackDriver.Settings.defaults()));
        String mac = "00:16:3e:31:00:01";
        int count = 300;
        int domid = net.createDomain("net-zerocopy");
        bus.offer(domid, 0, 2, Map.of("feature-persistent", "1"));
        DeviceId id = net.addVif(domid, 0, mac, "xenbr0", null);
        net.startGuest(domid, "ip=10.3.1.1,queues=2,count=" + count + ",rate=0,size=60:1514:4000:9000");
        assertThat(SimNet.await(20, () -> "4".equals(net.read(id.backendPath() + "/state"))
                && "4".equals(net.read(id.frontendPath() + "/state")))).as("connected; log:\n%s", log(domid)).isTrue();
        assertThat(bus.status(id)).containsEntry("strategy", "zero-copy").containsEntry("queue-1/strategy", "zero-copy");

        MemorySink sink = sinks.get("vif" + domid + ".0");
        byte[] src = HexFormat.ofDelimiter(":").parseHex(mac);
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 2 * count; i++) {
            byte[] f = sink.takeTransmitted(10_000);
            assertThat(f).as("frame %d of %d; log:\n%s", i, 2 * count, log(domid)).isNotNull();
            ByteBuffer b = ByteBuffer.wrap(f);
            int queue = b.getShort(18);
            long seq = b.getInt(20);
            assertThat(f).isEqualTo(NetbackHotSwapTest.frame(src, queue, seq, SIZES[(int) (seq % SIZES.length)]));
            assertThat(seen.add(queue + "/" + seq)).as("frame %d/%d once", queue, seq).isTrue();
        }
        assertThat(SimNet.await(10, () -> net.stat(id, "tx-answered") == 2L * count)).isTrue();
        assertThat(net.stat(id, "tx-failed")).isZero();

        Map<String, String> status = bus.status(id);
        long zeroCopy = Long.parseLong(status.get("queue-0/tx-zero-copy")) + Long.parseLong(status.get("queue-1/tx-zero-copy"));
        assertThat(zeroCopy).as("every TX frame from the guest's pages; %s", status).isEqualTo(2L * count);
        for (int q = 0; q < 2; q++) {
            String tx = "queue-" + q + "/tx-ring/";
            assertThat(Long.parseLong(status.get(tx + "zero-copy-maps"))).as(status.toString()).isBetween(1L, 256L);
            assertThat(status.get(tx + "zero-copy-fallback-copies")).isEqualTo("0");
            assertThat(status.get(tx + "zero-copy-memcpy")).as("nothing copied through the mapping").isEqualTo("0");
        }

        // RX: frames from the host, into the guest's kept RX pages, checked by the guest.
        byte[] host = HexFormat.ofDelimiter(":").parseHex("00:16:3e:99:99:98");
        for (int i = 0; i < 40; i++) {
            assertThat(sink.inject(NetbackHotSwapTest.frame(host, i % 2, 1000 + i, SIZES[i % SIZES.length]))).isTrue();
        }
        assertThat(SimNet.await(10, () -> net.stat(id, "rx-verified") == 40)).as("guest verified 40; log:\n%s", log(domid)).isTrue();
        assertThat(net.stat(id, "rx-bad")).isZero();
        status = bus.status(id);
        assertThat(status.get("queue-0/rx-ring/zero-copy-fallback-copies")).isEqualTo("0");
    }
}
