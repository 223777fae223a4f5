package io.backplane.netback;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.device.DeviceId;
import io.backplane.backend.BackendBus;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
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
    NetReattachFixture fx;
    SimNet net;
    BackendBus bus;

    @BeforeEach
    void start() throws Exception {
        fx = new NetReattachFixture();
        net = fx.net;
    }

    @AfterEach
    void stop() throws Exception {
        if (bus != null) {
            bus.close();
        }
        fx.close();
    }

    @Test
    void aVifKeepsItsRingsWhileTheBackendRestartsUnderIt() throws Exception {
        int domid = net.createDomain("net-reattach");
        String mac = "00:16:3e:10:00:09";
        DeviceId id = new DeviceId(0, "vif", domid, 0);
        fx.offers.put(id, SimNet.offer(2));
        bus = fx.newBus();
        net.addVif(domid, 0, mac, "xenbr0", null);
        int count = 8000;
        net.startGuest(domid, "ip=10.1.0.9,queues=2,count=" + count + ",rate=3000,size=60:1514:4000:9000");
        assertThat(SimNet.await(20, () -> "4".equals(net.read(id.backendPath() + "/state")))).as(fx.guestLog(domid)).isTrue();
        NetReattachFixture.Traffic traffic = fx.new Traffic(id, mac, count);

        int midTraffic = 0;
        for (int restart = 0; restart <= RESTARTS; restart++) {
            traffic.exchange();
            if (restart < RESTARTS) {
                midTraffic += traffic.sending(0) ? 1 : 0;
                for (String ring : List.of("queue-0-tx", "queue-0-rx", "queue-1-tx", "queue-1-rx")) {
                    assertThat(net.stateDir.resolve("devices/vif/" + domid + "/0/" + ring + ".requests")).as("request mirror").exists();
                }
                bus.close();                               // keepDevices: answered, unmapped, left Connected
                assertThat(net.read(id.backendPath() + "/state")).isEqualTo("4");
                bus = fx.newBus();                         // a new bus and driver adopt the vif from XenStore
            }
        }
        traffic.checkAllArrived(30_000);
        assertThat(midTraffic).as("restarts while the guest was still sending").isGreaterThanOrEqualTo(2);
        assertThat(fx.logs.stream().filter(l -> l.contains("re-attached to the live rings")).count()).isEqualTo(RESTARTS);
        assertThat(fx.logs).noneMatch(l -> l.contains("fatal"));
    }

    /**
     * SIGTERM under a hot standby: one bus serves the vifs of two guests sending on 2 queues each;
     * a standby bus on a state directory of its own leaves both to their live owner and rehearses
     * their adoption; then the serving bus hands both over at once ({@link BackendBus#handOverAll},
     * what the runtime's SIGTERM runs) and the standby adopts each the moment its owner key goes.
     * Every frame each guest sent reaches the host once, every host frame reaches its guest,
     * nothing is served again, no reconnect.
     */
    @Test
    void aStandbyAdoptsEveryVifTheServingBackendHandsOverAtOnce() throws Exception {
        bus = fx.newBus();
        List<NetReattachFixture.Traffic> traffic = new ArrayList<>();
        int count = 6000;                          // 6 s of sending: still going at the handover on a loaded host
        List<DeviceId> ids = new ArrayList<>();
        for (int i = 0; i < 2; i++) {              // both guests' JVMs start at once
            int domid = net.createDomain("net-term-" + i);
            DeviceId id = new DeviceId(0, "vif", domid, 0);
            fx.offers.put(id, SimNet.offer(2));
            net.addVif(domid, 0, "00:16:3e:10:01:0" + i, "xenbr0", null);
            net.startGuest(domid, "ip=10.1.1." + (10 + i) + ",queues=2,count=" + count + ",rate=1000,size=60:1514:4000:9000");
            ids.add(id);
        }
        for (int i = 0; i < 2; i++) {
            DeviceId id = ids.get(i);
            assertThat(SimNet.await(20, () -> "4".equals(net.read(id.backendPath() + "/state")))).as(fx.guestLog(id.frontendDomid())).isTrue();
            traffic.add(fx.new Traffic(id, "00:16:3e:10:01:0" + i, count));
        }
        BackendBus standby = fx.newStandbyBus(Files.createDirectories(net.stateDir.resolve("standby")));
        try {
            assertThat(SimNet.await(20, () -> fx.logs.stream().filter(l -> l.contains("rehearsed its adoption in ")).count() == 2))
                    .as(fx.logs.toString()).isTrue();
            assertThat(fx.logs.stream().filter(l -> l.contains("not served here: Connected and served by the live process"))).hasSize(2);
            for (NetReattachFixture.Traffic t : traffic) {
                t.exchange();
                assertThat(t.sending(600)).as("the guest still sends at the handover").isTrue();
            }
            bus.handOverAll("Backplane is stopping");
            assertThat(fx.logs.stream().filter(l -> l.contains("handed over (Backplane is stopping)"))).hasSize(2);
            assertThat(SimNet.await(20, () -> fx.logs.stream().filter(l -> l.contains("re-attached to the live rings (it was handed over)"))
                    .count() == 2)).as(fx.logs.toString()).isTrue();
            for (NetReattachFixture.Traffic t : traffic) {
                t.exchange();                               // host frames through the standby
                t.checkAllArrived(30_000);
            }
            assertThat(fx.logs).noneMatch(l -> l.contains("served again") || l.contains("fatal"));
        } finally {
            standby.close();
        }
    }
}
