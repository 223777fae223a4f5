package io.backplane.netback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.backplane.api.backend.DeviceException;
import io.backplane.api.backend.StrategySwap;
import io.backplane.api.device.DeviceId;
import io.backplane.api.sink.SinkRequest;
import io.backplane.netback.sink.MemorySink;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Hot swap of a live vif's TX and RX rings under the traffic of a real netfront guest process:
 * every frame byte-identical in the sink and in the guest, none failed, no reconnect.
 */
class NetbackHotSwapTest {
    SimNet net;
    NetbackBus bus;
    final Map<String, MemorySink> sinks = new ConcurrentHashMap<>();

    @BeforeEach
    void start() throws Exception {
        net = new SimNet();
        bus = new NetbackBus(net.xs, new NetbackDriver(RealRings.all(net.sim), net.sim,
                (SinkRequest r) -> sinks.computeIfAbsent(r.name(), n -> new MemorySink(n, false, "test", 1 << 15)),
                NetbackDriver.Settings.defaults()));
    }

    @AfterEach
    void stop() throws Exception {
        bus.close();
        net.close();
    }

    static byte[] frame(byte[] src, int queue, long seq, int length) {
        ByteBuffer b = ByteBuffer.allocate(length);
        b.put(new byte[] {-1, -1, -1, -1, -1, -1}).put(src).putShort((short) 0x88B5);
        b.putInt(0x42504E46).putShort((short) queue).putInt((int) seq).putShort((short) length);
        for (int i = 26; i < length; i++) {
            b.put((byte) (seq * 31 + i));
        }
        return b.array();
    }

    String log(int domid) throws Exception {
        return Files.exists(net.guestLog(domid)) ? Files.readString(net.guestLog(domid)) : "";
    }

    @Test
    void aVifSwappedMidTrafficDeliversEveryFrameByteForByte() throws Exception {
        DeviceId id = swapUnderTraffic("net-swap", "00:16:3e:10:00:07", Map.of(), "grant-copy",
                "map-batched-unmap", "grant-copy", "map-batched-unmap", null, "map-batched-unmap", "grant-copy");
        assertThatThrownBy(() -> bus.swap(id, "persistent")).as("the frontend made no promise to reuse its grants")
                .isInstanceOf(DeviceException.class)
                .hasMessageStartingWith("ring strategy persistent does not fit the netif-tx ring of queue 0")
                .hasMessageEndingWith("; fitting: grant-copy, map-batched-unmap");
    }

    /**
     * A vif that negotiated feature-persistent runs on the persistent strategy; it moves to grant
     * copy and back at batch boundaries under traffic, and its persistent grants are unmapped
     * when it leaves them.
     */
    @Test
    void aPersistentVifMovesToGrantCopyAndBackUnderTraffic() throws Exception {
        DeviceId id = swapUnderTraffic("net-swap-persistent", "00:16:3e:10:00:08", Map.of("feature-persistent", "1"),
                "persistent", "grant-copy", "persistent", "grant-copy", null, "grant-copy");
        assertThat(bus.status(id).get("features")).contains("persistent");
        assertThat(bus.status(id)).containsEntry("queue-1/strategy", "grant-copy");
    }

    /**
     * A guest sending {@code count} frames per queue on 2 queues while the rings are swapped to
     * each strategy of {@code order} in turn (null: the fittest, {@code fittest}), 40 host frames
     * injected before each swap: every frame byte-identical in the sink and in the guest, none
     * failed, no reconnect, and only the ring pages still pinned when the last swap was to grant copy.
     */
    private DeviceId swapUnderTraffic(String name, String mac, Map<String, String> offer, String fittest,
                                      String... order) throws Exception {
        int domid = net.createDomain(name);
        byte[] src = HexFormat.ofDelimiter(":").parseHex(mac);
        bus.offer(domid, 0, 2, offer);
        DeviceId id = net.addVif(domid, 0, mac, "xenbr0", null);
        int[] sizes = {60, 1514, 4000, 9000};
        int count = 8000;
        net.startGuest(domid, "ip=10.1.0.7,queues=2,count=" + count + ",rate=4000,size=60:1514:4000:9000");
        assertThat(SimNet.await(20, () -> "4".equals(net.read(id.backendPath() + "/state")))).as(log(domid)).isTrue();
        MemorySink sink = sinks.get("vif" + domid + ".0");

        // The sink side drains and checks every frame the guest sends while the main thread swaps.
        Map<String, Boolean> seen = new ConcurrentHashMap<>();
        List<String> bad = new ArrayList<>();
        Thread drain = new Thread(() -> {
            try {
                while (seen.size() < 2 * count) {
                    byte[] f = sink.takeTransmitted(10_000);
                    if (f == null) {
                        return;
                    }
                    ByteBuffer b = ByteBuffer.wrap(f);
                    int queue = b.getShort(18);
                    long seq = b.getInt(20);
                    if (!java.util.Arrays.equals(f, frame(src, queue, seq, sizes[(int) (seq % sizes.length)]))
                            || seen.put(queue + "/" + seq, true) != null) {
                        synchronized (bad) {
                            bad.add(queue + "/" + seq);
                        }
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        drain.start();

        assertThat(bus.status(id)).containsEntry("strategy", fittest);
        List<StrategySwap> swaps = new ArrayList<>();
        int injected = 0;
        for (String s : order) {
            long target = seen.size() + 200;
            assertThat(SimNet.await(10, () -> seen.size() >= Math.min(target, 2L * count - 1))).isTrue();
            for (int i = 0; i < 40; i++, injected++) {
                assertThat(sink.inject(frame(HexFormat.ofDelimiter(":").parseHex("00:16:3e:99:99:99"), injected % 2,
                        5000 + injected, sizes[injected % sizes.length]))).isTrue();
            }
            List<StrategySwap> done = bus.swap(id, s);
            String expected = s == null ? fittest : s;
            assertThat(done).hasSize(4).allSatisfy(d -> assertThat(d.to()).isEqualTo(expected));
            assertThat(bus.status(id)).containsEntry("strategy", expected);
            swaps.addAll(done);
        }
        long seenAtLastSwap = seen.size();
        drain.join(30_000);
        int rx = injected;
        assertThat(seenAtLastSwap).as("swapped mid-traffic").isLessThan(2L * count);
        assertThat(bad).isEmpty();
        assertThat(seen).as("sink dropped %d; %s", sink.dropped(), bus.status(id)).hasSize(2 * count);
        assertThat(SimNet.await(10, () -> net.stat(id, "tx-answered") == 2L * count)).isTrue();
        assertThat(net.stat(id, "tx-failed")).isZero();
        assertThat(SimNet.await(10, () -> net.stat(id, "rx-verified") == rx)).as("guest verified %d; log:\n%s", rx,
                log(domid)).isTrue();
        assertThat(net.stat(id, "rx-bad")).isZero();
        assertThat(net.read(id.frontendPath() + "/stats/connections")).as("no reconnect").isEqualTo("1");

        // Ending on grant-copy only the 2 x (TX + RX) ring pages stay pinned.
        assertThat(net.sim.pinnedGrants(domid)).isEqualTo(4);
        long[] pauses = swaps.stream().mapToLong(StrategySwap::pauseMicros).sorted().toArray();
        System.err.printf("net hot swap (%s): %d ring swaps under traffic, pause per ring median %d us, max %d us%n",
                name, pauses.length, pauses[pauses.length / 2], pauses[pauses.length - 1]);
        return id;
    }
}
