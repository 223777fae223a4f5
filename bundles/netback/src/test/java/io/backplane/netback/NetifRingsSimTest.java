package io.backplane.netback;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.device.DeviceId;
import io.backplane.api.sink.SinkRequest;
import io.backplane.netback.sink.MemorySink;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Multi-page netif rings and persistent grants on a vif, end to end: the real xenbus core,
 * netback with the runtime's strategies (grant-copy, persistent, map-batched-unmap), and a
 * netfront guest process in the sim. Every frame is checked byte for byte both ways.
 */
class NetifRingsSimTest {
    static final int[] SIZES = {60, 1514, 4000, 9000};
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

    private NetbackBus bus() {
        if (bus == null) {
            bus = new NetbackBus(net.xs, new NetbackDriver(RealRings.all(net.sim), net.sim,
                    (SinkRequest r) -> sinks.computeIfAbsent(r.name(), n -> new MemorySink(n, false, "test", 1 << 15)),
                    NetbackDriver.Settings.defaults()));
        }
        return bus;
    }

    private String log(int domid) throws Exception {
        return Files.exists(net.guestLog(domid)) ? Files.readString(net.guestLog(domid)) : "";
    }

    /** A connected vif of a new guest with the given offer (on top of SimNet's, 2 queues) and netfront options. */
    private DeviceId connected(String name, String mac, Map<String, String> offer, String guest) throws Exception {
        int domid = net.createDomain(name);
        bus().offer(domid, 0, 2, offer);
        DeviceId id = net.addVif(domid, 0, mac, "xenbr0", null);
        net.startGuest(domid, guest);
        assertThat(SimNet.await(20, () -> "4".equals(net.read(id.backendPath() + "/state"))
                && "4".equals(net.read(id.frontendPath() + "/state")))).as("connected; log:\n%s", log(domid)).isTrue();
        return id;
    }

    /** Once idle (a grant copy in flight pins its grant too), exactly {@code expected} grants pinned. */
    private void assertPinned(DeviceId id, long expected, String what) throws Exception {
        assertThat(SimNet.await(5, () -> net.sim.pinnedGrants(id.frontendDomid()) == expected))
                .as("%s: %d, not %d", what, expected, net.sim.pinnedGrants(id.frontendDomid())).isTrue();
    }

    /** The frontend's keys (stats aside), queue directories flattened as {@code queue-K/key}. */
    private Set<String> frontendKeys(DeviceId id) {
        Set<String> keys = new TreeSet<>();
        for (String k : net.xs.directory(id.frontendPath())) {
            if (k.startsWith("queue-")) {
                net.xs.directory(id.frontendPath() + "/" + k).forEach(q -> keys.add(k + "/" + q));
            } else if (!k.equals("stats")) {
                keys.add(k);
            }
        }
        return keys;
    }

    /**
     * {@code count} frames per queue from the guest, byte for byte, each once, then 40 frames
     * from the host verified by the guest.
     */
    private void framesBothWays(DeviceId id, String mac, int count) throws Exception {
        MemorySink sink = sinks.get("vif" + id.frontendDomid() + ".0");
        byte[] src = HexFormat.ofDelimiter(":").parseHex(mac);
        Set<String> seen = new java.util.HashSet<>();
        for (int i = 0; i < 2 * count; i++) {
            byte[] f = sink.takeTransmitted(10_000);
            assertThat(f).as("frame %d of %d; log:\n%s", i, 2 * count, log(id.frontendDomid())).isNotNull();
            ByteBuffer b = ByteBuffer.wrap(f);
            int queue = b.getShort(18);
            long seq = b.getInt(20);
            assertThat(f).isEqualTo(NetbackHotSwapTest.frame(src, queue, seq, SIZES[(int) (seq % SIZES.length)]));
            assertThat(seen.add(queue + "/" + seq)).as("frame %d/%d once", queue, seq).isTrue();
        }
        assertThat(SimNet.await(10, () -> net.stat(id, "tx-answered") == 2L * count)).isTrue();
        assertThat(net.stat(id, "tx-failed")).isZero();
        long before = net.stat(id, "rx-verified");
        byte[] host = HexFormat.ofDelimiter(":").parseHex("00:16:3e:99:99:99");
        for (int i = 0; i < 40; i++) {
            assertThat(sink.inject(NetbackHotSwapTest.frame(host, i % 2, 1000 + i, SIZES[i % SIZES.length]))).isTrue();
        }
        assertThat(SimNet.await(10, () -> net.stat(id, "rx-verified") == before + 40))
                .as("guest verified 40; log:\n%s", log(id.frontendDomid())).isTrue();
        assertThat(net.stat(id, "rx-bad")).isZero();
    }

    @Test
    void aFrontendThatWritesNoNewKeyGetsTheOnePageRingsOfLinuxNetfront() throws Exception {
        String mac = "00:16:3e:30:00:01";
        // Both new features offered; the frontend takes neither, as Linux netfront (it knows neither key).
        DeviceId id = connected("net-legacy", mac, Map.of("feature-persistent", "1"),
                "ip=10.3.0.1,queues=2,persistent=0,count=40,rate=2000,size=60:1514:4000:9000");
        assertThat(net.read(id.backendPath() + "/max-ring-page-order")).isEqualTo("4");
        assertThat(frontendKeys(id)).as("exactly what Linux netfront writes for 2 queues").containsExactly(
                "backend", "backend-id", "feature-gso-tcpv4", "feature-gso-tcpv6", "feature-ipv6-csum-offload",
                "feature-rx-notify", "feature-sg", "handle", "mac", "multi-queue-num-queues",
                "queue-0/event-channel-rx", "queue-0/event-channel-tx", "queue-0/rx-ring-ref", "queue-0/tx-ring-ref",
                "queue-1/event-channel-rx", "queue-1/event-channel-tx", "queue-1/rx-ring-ref", "queue-1/tx-ring-ref",
                "request-rx-copy", "state");
        assertThat(bus.status(id)).containsEntry("ring-page-order", "0").containsEntry("strategy", "grant-copy")
                .containsEntry("queue-0/ring-page-order", "0").containsEntry("queue-1/strategy", "grant-copy");
        assertThat(bus.status(id).get("ring")).contains("1 page/256x");
        assertThat(bus.status(id).get("features")).doesNotContain("persistent");
        framesBothWays(id, mac, 40);
        assertPinned(id, 4, "one TX and one RX page per queue");
    }

    @Test
    void multiPageRingsTakeTheSmallerOfOfferAndOwnLimit() throws Exception {
        String mac = "00:16:3e:30:00:02";
        DeviceId id = connected("net-pages", mac, Map.of("max-ring-page-order", "1"),
                "ip=10.3.0.2,queues=2,ring-order=2,persistent=0,count=600,rate=0,size=60:1514:4000:9000");
        assertThat(net.read(id.frontendPath() + "/ring-page-order")).as("min(own 2, offered 1)").isEqualTo("1");
        assertThat(frontendKeys(id)).contains("queue-0/tx-ring-ref0", "queue-0/tx-ring-ref1", "queue-1/rx-ring-ref0",
                "queue-1/rx-ring-ref1").doesNotContain("queue-0/tx-ring-ref", "queue-0/rx-ring-ref", "feature-persistent");
        assertThat(bus.status(id)).containsEntry("ring-page-order", "1").containsEntry("queue-0/ring-page-order", "1")
                .containsEntry("queue-1/ring-page-order", "1");
        assertThat(bus.status(id).get("ring")).contains("2 pages/512x");
        // 600 frames per queue, unpaced: more than a one-page ring holds, so the second page is used.
        framesBothWays(id, mac, 600);
        assertPinned(id, 8, "2 queues x (TX + RX) x 2 pages");
        assertThat(log(id.frontendDomid())).contains("2-page rings");
    }

    @Test
    void persistentGrantsKeepABoundedPoolMappedAndCarryEveryFrame() throws Exception {
        String mac = "00:16:3e:30:00:03";
        DeviceId id = connected("net-persistent", mac, Map.of("feature-persistent", "1"),
                "ip=10.3.0.3,queues=2,count=700,rate=0,size=60:1514:4000:9000");
        assertThat(net.read(id.frontendPath() + "/feature-persistent")).isEqualTo("1");
        assertThat(net.read(id.frontendPath() + "/ring-page-order")).as("own limit 0 by default").isEmpty();
        Map<String, String> status = bus.status(id);
        assertThat(status).containsEntry("strategy", "persistent").containsEntry("queue-1/strategy", "persistent");
        assertThat(status.get("features")).contains("persistent");
        framesBothWays(id, mac, 700);
        status = bus.status(id);
        for (int q = 0; q < 2; q++) {
            String tx = "queue-" + q + "/tx-ring/";
            // 700 frames over a 256-slot pool: every grant came back, and was a hit, not a new map.
            assertThat(Long.parseLong(status.get(tx + "persistent-maps"))).as(status.toString()).isBetween(1L, 256L);
            assertThat(Long.parseLong(status.get(tx + "persistent-hits"))).isGreaterThan(256L);
            assertThat(Long.parseLong(status.get(tx + "persistent-fallback-copies"))).isZero();
        }
        assertThat(Long.parseLong(status.get("queue-0/rx-ring/persistent-maps"))
                + Long.parseLong(status.get("queue-1/rx-ring/persistent-maps"))).as("RX copies into kept pages").isPositive();
        long mapped = 0;
        for (String k : status.keySet()) {
            if (k.endsWith("/persistent-grants")) {
                mapped += Long.parseLong(status.get(k));
            }
        }
        assertPinned(id, 4 + mapped, "4 ring pages and the persistent grants");
    }

    /**
     * An 8-page ring gives the netfront a pool of 2048 TX grants, above the strategy's cap of 1056
     * per ring: beyond it segments are grant-copied, and the least recently used grants are purged
     * so others can be kept, as blkback does; every frame still arrives intact.
     */
    @Test
    void aPoolAboveTheCapFallsBackToCopiesAndPurgesTheLeastRecentlyUsed() throws Exception {
        String mac = "00:16:3e:30:00:05";
        DeviceId id = connected("net-persistent-cap", mac, Map.of("feature-persistent", "1"),
                "ip=10.3.0.5,queues=1,ring-order=3,count=2500,rate=5000,size=60:1514:4000:9000");
        Map<String, String> status = bus.status(id);
        assertThat(status).containsEntry("strategy", "persistent").containsEntry("ring-page-order", "3");
        MemorySink sink = sinks.get("vif" + id.frontendDomid() + ".0");
        byte[] src = HexFormat.ofDelimiter(":").parseHex(mac);
        for (long seq = 0; seq < 2500; seq++) {
            byte[] f = sink.takeTransmitted(10_000);
            assertThat(f).as("frame %d; log:\n%s", seq, log(id.frontendDomid())).isNotNull();
            assertThat(f).isEqualTo(NetbackHotSwapTest.frame(src, 0, seq, SIZES[(int) (seq % SIZES.length)]));
        }
        status = bus.status(id);
        String tx = "queue-0/tx-ring/";
        assertThat(Long.parseLong(status.get(tx + "persistent-grants"))).as(status.toString()).isBetween(1L, 1056L);
        assertThat(Long.parseLong(status.get(tx + "persistent-fallback-copies"))).isPositive();
        assertThat(Long.parseLong(status.get(tx + "persistent-purged"))).isPositive();
        assertThat(SimNet.await(10, () -> net.stat(id, "tx-answered") == 2500)).isTrue();
        assertThat(net.stat(id, "tx-failed")).isZero();
        System.err.printf("netif persistent grants over the cap: kept %s, maps %s, hits %s, fallback copies %s, purged %s%n",
                status.get(tx + "persistent-grants"), status.get(tx + "persistent-maps"), status.get(tx + "persistent-hits"),
                status.get(tx + "persistent-fallback-copies"), status.get(tx + "persistent-purged"));
    }

    @Test
    void aRingOrderChangeReconnectsWithEveryFrameCounted() throws Exception {
        String mac = "00:16:3e:30:00:04";
        int count = 4000;
        DeviceId id = connected("net-reorder", mac, Map.of("max-ring-page-order", "2"),
                "ip=10.3.0.4,queues=2,ring-order=2,persistent=0,count=" + count + ",rate=4000,size=60:1514");
        assertThat(bus.status(id)).containsEntry("ring-page-order", "2");
        MemorySink sink = sinks.get("vif" + id.frontendDomid() + ".0");
        byte[] src = HexFormat.ofDelimiter(":").parseHex(mac);
        int[] sizes = {60, 1514};
        AtomicLong delivered = new AtomicLong();
        List<String> bad = new ArrayList<>();
        Thread drain = new Thread(() -> {
            try {
                byte[] f;
                while ((f = sink.takeTransmitted(3_000)) != null) {
                    ByteBuffer b = ByteBuffer.wrap(f);
                    int queue = b.getShort(18);
                    long seq = b.getInt(20);
                    if (!java.util.Arrays.equals(f, NetbackHotSwapTest.frame(src, queue, seq, sizes[(int) (seq % 2)]))) {
                        synchronized (bad) {
                            bad.add(queue + "/" + seq);
                        }
                    }
                    delivered.incrementAndGet();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        drain.start();
        assertThat(SimNet.await(10, () -> net.stat(id, "tx-answered") > 1000)).isTrue();

        // pv:request DEV max-ring-page-order 0: Closing, and back on one-page rings.
        bus.change(id, "max-ring-page-order", "0");
        assertThat(SimNet.await(20, () -> net.stat(id, "connections") == 2
                && "4".equals(net.read(id.backendPath() + "/state")) && "4".equals(net.read(id.frontendPath() + "/state"))))
                .as("reconnected; log:\n%s", log(id.frontendDomid())).isTrue();
        assertThat(bus.status(id)).containsEntry("ring-page-order", "0").containsEntry("queue-1/ring-page-order", "0");
        assertThat(frontendKeys(id)).as("the frontend removed its order key").doesNotContain("ring-page-order")
                .contains("queue-0/tx-ring-ref", "queue-1/rx-ring-ref");

        // The second connection sends its count in full; once the guest has stopped sending (its
        // counters, reported every 0.5 s, stay put), every frame sent is accounted for.
        long last = -1;
        for (int i = 0; i < 60; i++) {
            Thread.sleep(600);
            long now = net.stat(id, "tx-sent");
            if (now == last && net.stat(id, "tx-answered") >= 2L * count) {
                break;
            }
            last = now;
        }
        drain.join(20_000);
        long sent = net.stat(id, "tx-sent");
        long answered = net.stat(id, "tx-answered");
        long dropped = net.stat(id, "tx-dropped");
        assertThat(net.stat(id, "tx-failed")).isZero();
        assertThat(sent).isEqualTo(answered + dropped);
        assertThat(bad).isEmpty();
        // An answered frame reached the sink; a dropped one may have (answered after the frontend let go).
        assertThat(delivered.get()).as("sink dropped %d", sink.dropped()).isBetween(answered, sent);
        System.err.printf("netif ring order 2 -> 0 under traffic: sent %d, answered %d, dropped at the reconnect %d%n",
                sent, answered, dropped);
    }
}
