package io.backplane.backend;

import io.backplane.api.device.DeviceCapabilities;
import io.backplane.api.device.DeviceId;
import io.backplane.api.device.FeatureDescriptor;
import io.backplane.api.device.Negotiation;
import io.backplane.api.device.RequestOutcome;
import io.backplane.api.device.RequestStatus;
import io.backplane.api.backend.XenbusState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static io.backplane.backend.XenbusFixture.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The xenbus backend lifecycle against the real XenStore daemon, policy and a frontend peer. */
class XenbusLifecycleTest {

    private XenbusFixture fx;
    private final TestDriver driver = new TestDriver();

    private XenbusFixture start(boolean writeHotplugStatus, String... rules) throws Exception {
        fx = new XenbusFixture(writeHotplugStatus, rules);
        fx.bus.addDriver(driver);
        return fx;
    }

    @AfterEach
    void stop() throws Exception {
        if (fx != null) {
            fx.close();
        }
    }

    @Test
    void probeInitWaitThenConnected() throws Exception {
        start(true);
        DeviceId id = fx.createVif(3, 0, Map.of("queues", "2"));
        fx.awaitBackendState(id, 2);
        String be = id.backendPath();
        assertThat(fx.xs().read(be + "/multi-queue-max-queues")).as("the policy's offer is published before InitWait")
                .isEqualTo("2");
        assertThat(fx.xs().tryRead(be + "/request-queues")).as("accepted request acknowledged by removal").isEmpty();
        assertThat(fx.xs().read(be + "/hotplug-status")).as("written in sim mode, as the vif script would")
                .isEqualTo("connected");
        assertThat(driver.callsOf(id)).containsExactly("probe");

        fx.connects(id, 2);
        assertThat(driver.callsOf(id)).containsExactly("probe", "connect");
        // The line follows the state switch that awaitBackendState saw: wait for it too.
        String connected = "3/vif/0: frontend connected, 2 queues, strategy grant-copy, ring order 0";
        XenbusFixture.await("the connected log line", () -> fx.log.contains(connected), fx.log::toString);
        DeviceView view = fx.bus.device(id).orElseThrow();
        assertThat(view.backend()).isEqualTo(XenbusState.CONNECTED);
        assertThat(view.frontend()).isEqualTo(XenbusState.CONNECTED);
        assertThat(view.status()).containsEntry("queues", "2");
    }

    @Test
    void closingClosedAndReconnect() throws Exception {
        start(true);
        DeviceId id = fx.connectedVif(3, 1);

        fx.frontendState(id, 5);
        fx.awaitBackendState(id, 5);
        fx.frontendState(id, 6);
        fx.awaitBackendState(id, 6);
        assertThat(driver.callsOf(id)).containsExactly("probe", "connect", "disconnect");
        assertThat(fx.bus.device(id)).as("online=1: the device stays for a reconnect").isPresent();

        fx.frontendState(id, 1);
        fx.awaitBackendState(id, 2);
        fx.connects(id, 2);
        assertThat(driver.callsOf(id)).containsExactly("probe", "connect", "disconnect", "connect");
        assertThat(driver.devices.get(id).queues).isEqualTo(2);
    }

    @Test
    void aFrontendReconnectIsOfferedWhatTheBackendCanDoNow() throws Exception {
        start(true);
        DeviceId id = fx.connectedVif(3, 1);
        String xdp = id.backendPath() + "/feature-xdp-headroom";
        assertThat(fx.xs().tryRead(xdp)).isEmpty();

        // A bundle registers a feature for vifs (as blkback does for feature-persistent when a strategy comes).
        fx.policy.addCapabilities(new DeviceCapabilities() {
            public String deviceType() {
                return "vif";
            }

            public List<FeatureDescriptor> features() {
                return List.of(FeatureDescriptor.bool("feature-xdp-headroom", true, true, "xdp", "xdp"));
            }
        });
        assertThat(fx.xs().tryRead(xdp)).as("a connected device keeps what it negotiated").isEmpty();

        fx.frontendState(id, 5);
        fx.awaitBackendState(id, 5);
        fx.frontendState(id, 6);
        fx.awaitBackendState(id, 6);
        fx.frontendState(id, 1);
        fx.awaitBackendState(id, 2);
        assertThat(fx.xs().tryRead(xdp)).as("decided afresh before InitWait").hasValue("1");
    }

    @Test
    void aStrategyGoingAwayMovesOnlyTheDevicesOnItBeforeTheCallReturns() throws Exception {
        start(true);
        driver.swaps = true;
        DeviceId on = fx.createVif(3, 0, Map.of());
        DeviceId other = fx.createVif(4, 0, Map.of());
        for (DeviceId id : List.of(on, other)) {
            fx.awaitBackendState(id, 2);
            fx.connects(id, 1);
        }
        driver.devices.get(other).strategy = "persistent";

        fx.bus.strategyRemoved("grant-copy", Duration.ofSeconds(10));
        assertThat(driver.devices.get(on).strategy).as("moved before the call returned").isEqualTo("persistent");
        assertThat(driver.callsOf(on)).containsExactly("probe", "connect", "swap");
        assertThat(driver.callsOf(other)).as("a device not on it is left alone").containsExactly("probe", "connect");
        assertThat(fx.log).contains("3/vif/0: ring strategy grant-copy is going away; moved at a batch boundary, "
                + "no request lost: queue 0: grant-copy -> persistent (10 us)");
        assertThat(fx.backendState(on)).isEqualTo("4");
    }

    @Test
    void aStrategyGoingAwayThatNoOtherCanReplaceClosesTheDeviceAndItComesBack() throws Exception {
        start(true);
        driver.swaps = true;
        DeviceId id = fx.connectedVif(3, 1);
        driver.devices.get(id).fittest = null;

        fx.bus.strategyRemoved("grant-copy", Duration.ofSeconds(10));
        assertThat(driver.callsOf(id)).as("its rings are closed before the call returned")
                .containsExactly("probe", "connect", "swap", "disconnect");
        assertThat(fx.backendState(id)).isEqualTo("5");
        assertThat(fx.log).anyMatch(l -> l.startsWith("3/vif/0: ring strategy grant-copy is going away and no remaining "
                + "strategy can take over its rings as they are (no ring strategy can serve the ring of queue 0); closing"));

        // The frontend does what Linux's does on Closing: closes, then sets up again on what remains.
        fx.frontendState(id, 6);
        fx.awaitBackendState(id, 6);
        fx.frontendState(id, 1);
        fx.awaitBackendState(id, 2);
        fx.connects(id, 1);
        assertThat(driver.callsOf(id)).containsExactly("probe", "connect", "swap", "disconnect", "connect");
    }

    @Test
    void withNoRingStrategyAtAllAConnectWaitsInInitWaitUntilOneIsRegistered() throws Exception {
        start(true);
        boolean[] none = {true};
        fx.bus.noRingStrategy(() -> none[0]);
        DeviceId id = fx.createVif(3, 0, Map.of());
        fx.awaitBackendState(id, 2);
        fx.frontendConnects(id, 1);
        String waiting = "3/vif/0: frontend ready, but no ring strategy is registered; waiting for one to connect"
                + " (a strategy bundle in the deploy directory, felix:start or feature:install)";
        await("the waiting line", () -> fx.log.contains(waiting), fx.log::toString);
        assertThat(fx.backendState(id)).as("not failed: still InitWait").isEqualTo("2");
        assertThat(driver.callsOf(id)).containsExactly("probe");

        none[0] = false;
        fx.bus.strategyAdded("grant-copy", new RingStrategyRegistry(), false);
        fx.awaitBackendState(id, 4);
        assertThat(driver.callsOf(id)).containsExactly("probe", "connect");
    }

    @Test
    void aDeviceStuckInItsDriverHoldsAStrategysRemovalOnlyUntilTheTimeout() throws Exception {
        start(true);
        driver.swaps = true;
        DeviceId id = fx.createVif(3, 0, Map.of());
        fx.awaitBackendState(id, 2);
        driver.slowConnect = d -> d.equals(id);
        fx.frontendConnects(id, 1);
        await("the connect to block", () -> driver.callsOf(id).contains("connect"), driver.calls::toString);

        long begin = System.nanoTime();
        fx.bus.strategyRemoved("grant-copy", Duration.ofMillis(300));
        assertThat(Duration.ofNanos(System.nanoTime() - begin)).isLessThan(Duration.ofSeconds(5));
        assertThat(fx.log).contains("3/vif/0: still busy 300 ms after ring strategy grant-copy began to go away;"
                + " it moves off it when its executor gets to it");
        driver.slowRelease.countDown();
        fx.awaitBackendState(id, 4);
        await("the queued move", () -> driver.callsOf(id).contains("swap"), driver.calls::toString);
        assertThat(driver.devices.get(id).strategy).isEqualTo("persistent");
    }

    @Test
    void detachAsLibxlDoesRemovesTheDevice() throws Exception {
        start(true);
        DeviceId id = fx.connectedVif(3, 1);

        // libxl: online=0 and state=5 in the backend; the frontend closes; then both dirs go.
        fx.xs().transaction(tx -> {
            tx.write(id.backendPath() + "/online", "0");
            tx.write(id.backendPath() + "/state", "5");
            return null;
        });
        fx.frontendState(id, 5);
        fx.frontendState(id, 6);
        fx.awaitBackendState(id, 6);
        await("device removed", () -> fx.bus.device(id).isEmpty(), () -> fx.bus.devices().toString());
        assertThat(driver.callsOf(id)).containsExactly("probe", "connect", "disconnect", "remove");
        fx.xs().rm(id.backendPath());
        fx.xs().rm(id.frontendPath());
        Thread.sleep(100);
        assertThat(fx.xs().exists(id.backendPath())).as("a removed device's directory is not recreated").isFalse();
        assertThat(driver.callsOf(id)).as("no re-probe").containsExactly("probe", "connect", "disconnect", "remove");

        // xl network-attach again with the same devid: a new device.
        fx.createVif(3, 0, Map.of());
        fx.awaitBackendState(id, 2);
        fx.connects(id, 1);
        assertThat(driver.callsOf(id)).containsExactly("probe", "connect", "disconnect", "remove", "probe", "connect");
    }

    @Test
    void backendDirectoryRemovedWhileConnected() throws Exception {
        start(true);
        DeviceId id = fx.connectedVif(3, 1);
        fx.xs().rm(id.backendPath());
        await("device removed", () -> fx.bus.device(id).isEmpty(), () -> driver.callsOf(id).toString());
        assertThat(driver.callsOf(id)).containsExactly("probe", "connect", "disconnect", "remove");
        assertThat(fx.xs().exists(id.backendPath())).isFalse();
    }

    @Test
    void aFailingDeviceIsClosedWithAnErrorNodeAndOthersGoOn() throws Exception {
        start(true);
        DeviceId good = fx.createVif(3, 0, Map.of());
        DeviceId bad = fx.createVif(4, 0, Map.of());
        driver.failConnect = id -> id.equals(bad);
        fx.awaitBackendState(good, 2);
        fx.awaitBackendState(bad, 2);
        fx.frontendConnects(bad, 1);
        fx.frontendConnects(good, 1);
        fx.awaitBackendState(bad, 5);
        fx.awaitBackendState(good, 4);
        assertThat(fx.xs().read("/local/domain/0/error/backend/vif/4/0/error")).isEqualTo("ring map refused for 4/vif/0");
        assertThat(fx.xs().read(bad.backendPath() + "/error")).isEqualTo("ring map refused for 4/vif/0");
        assertThat(fx.log).anyMatch(l -> l.startsWith("4/vif/0: connect") || l.startsWith("4/vif/0: frontend change failed"));
        assertThat(fx.bus.device(bad).orElseThrow().lastError()).contains("ring map refused for 4/vif/0");
        assertThat(fx.xs().exists("/local/domain/0/error/backend/vif/3")).isFalse();

        // The good device still follows its frontend.
        fx.frontendState(good, 5);
        fx.awaitBackendState(good, 5);
        // The bad one recovers once its frontend starts over and the fault is gone.
        driver.failConnect = id -> false;
        fx.frontendState(bad, 6);
        fx.awaitBackendState(bad, 6);
        fx.frontendState(bad, 1);
        fx.awaitBackendState(bad, 2);
        fx.connects(bad, 1);
    }

    @Test
    void aFrontendAskingMoreQueuesThanOfferedIsRefusedLikeNetback() throws Exception {
        start(true, "vif queues max=1");
        DeviceId id = fx.createVif(3, 0, Map.of());
        fx.awaitBackendState(id, 2);
        assertThat(fx.xs().read(id.backendPath() + "/multi-queue-max-queues")).isEqualTo("1");
        fx.frontendConnects(id, 2);
        fx.awaitBackendState(id, 5);
        assertThat(fx.xs().read("/local/domain/0/error/backend/vif/3/0/error"))
                .isEqualTo("guest requested 2 queues, exceeding the maximum of 1.");
    }

    @Test
    void vifWaitsForHotplugStatusWhenScriptsRun() throws Exception {
        start(false);
        DeviceId id = fx.createVif(3, 0, Map.of());
        fx.awaitBackendState(id, 2);
        fx.frontendConnects(id, 1);
        Thread.sleep(200);
        assertThat(fx.backendState(id)).as("no connect before the hotplug script reports").isEqualTo("2");
        assertThat(fx.log).contains("3/vif/0: frontend ready, waiting for hotplug-status=connected");
        fx.xs().write(id.backendPath() + "/hotplug-status", "connected");
        fx.awaitBackendState(id, 4);
    }

    @Test
    void aNewRequestKeyReNegotiatesAndReconnects() throws Exception {
        start(true);
        DeviceId id = fx.createVif(3, 0, Map.of("queues", "2"));
        fx.awaitBackendState(id, 2);
        fx.connects(id, 2);

        fx.xs().write(id.backendPath() + "/request-multi-queue-max-queues", "1");
        fx.awaitBackendState(id, 5);
        assertThat(fx.xs().read(id.backendPath() + "/multi-queue-max-queues")).isEqualTo("1");
        assertThat(fx.xs().tryRead(id.backendPath() + "/request-multi-queue-max-queues")).isEmpty();
        assertThat(driver.callsOf(id)).as("in-flight work finished before the backend says Closing")
                .containsExactly("probe", "connect", "disconnect");
        // The frontend does what netfront does on backend Closing, then comes back with the new offer.
        fx.frontendState(id, 5);
        fx.frontendState(id, 6);
        fx.awaitBackendState(id, 6);
        fx.frontendState(id, 1);
        fx.awaitBackendState(id, 2);
        fx.connects(id, 1);
        assertThat(driver.devices.get(id).queues).isEqualTo(1);
        assertThat(fx.log).anyMatch(l -> l.startsWith("3/vif/0: a new request-multi-queue-max-queues changed the offer "
                + "(multi-queue-max-queues=1); closing so the frontend reconnects"));
    }

    @Test
    void requestThroughTheRegistryReportsTheOutcome() throws Exception {
        start(true, "vif queues max=1");
        DeviceId id = fx.connectedVif(3, 1);

        RequestOutcome clamped = outcome(fx.bus.request(id, "queues", "4", Duration.ofSeconds(5)), "queues");
        assertThat(clamped.status()).isEqualTo(RequestStatus.CLAMPED);
        assertThat(clamped.effectiveValue()).isEqualTo("1");
        assertThat(fx.backendState(id)).as("nothing changed, no reconnect").isEqualTo("4");

        RequestOutcome rejected = outcome(fx.bus.request(id, "no-such-feature", "1", Duration.ofSeconds(5)), "no-such-feature");
        assertThat(rejected.status()).isEqualTo(RequestStatus.REJECTED);
        assertThat(fx.xs().read(id.backendPath() + "/feature-control/no-such-feature/status")).isEqualTo("rejected");

        Negotiation sg = fx.bus.request(id, "sg", "0", Duration.ofSeconds(5));
        assertThat(sg.needsReconnect()).isTrue();
        RequestOutcome sgOff = outcome(sg, "sg");
        assertThat(sgOff.status()).isEqualTo(RequestStatus.ACCEPTED);
        fx.awaitBackendState(id, 5);
        assertThat(fx.xs().read(id.backendPath() + "/feature-sg")).isEqualTo("0");

        assertThatThrownBy(() -> fx.bus.request(new DeviceId(0, "vif", 9, 0), "sg", "0", Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("no vif device 9/vif/0 is served here");
    }

    @Test
    void anAdminPolicyEditReconnectsTheDevicesItChanges() throws Exception {
        start(true);
        DeviceId vif = fx.connectedVif(3, 2);
        fx.policy.modify("vif@guest3 feature-sg deny");
        fx.awaitBackendState(vif, 5);
        assertThat(fx.xs().read(vif.backendPath() + "/feature-sg")).isEqualTo("0");
        assertThat(fx.log).contains("3/vif/0: an admin policy edit changed the offer (feature-sg=0); closing so the frontend reconnects");
    }

    @Test
    void aBuggyProbeFailsThatDeviceOnly() throws Exception {
        start(true);
        driver.failProbe = id -> id.frontendDomid() == 4;
        DeviceId bad = fx.createVif(4, 0, Map.of());
        DeviceId good = fx.createVif(3, 0, Map.of());
        fx.awaitBackendState(bad, 5);
        assertThat(fx.xs().read("/local/domain/0/error/backend/vif/4/0/error")).isEqualTo("driver bug");
        fx.awaitBackendState(good, 2);
        fx.connects(good, 1);
        // Once the driver is fixed, the frontend starting over probes the device again.
        driver.failProbe = id -> false;
        fx.frontendState(bad, 6);
        fx.awaitBackendState(bad, 6);
        fx.frontendState(bad, 1);
        fx.awaitBackendState(bad, 2);
        assertThat(driver.callsOf(bad)).containsExactly("probe", "probe");
    }

    @Test
    void aDeviceStuckInItsDriverBlocksNoOther() throws Exception {
        start(true);
        DeviceId stuck = fx.createVif(4, 0, Map.of());
        DeviceId other = fx.createVif(3, 0, Map.of());
        driver.slowConnect = id -> id.equals(stuck);
        fx.awaitBackendState(stuck, 2);
        fx.awaitBackendState(other, 2);
        fx.frontendConnects(stuck, 1);
        await("the stuck connect to start", () -> driver.callsOf(stuck).contains("connect"), driver.calls::toString);
        fx.connects(other, 1);
        fx.frontendState(other, 5);
        fx.awaitBackendState(other, 5);
        assertThat(fx.backendState(stuck)).isEqualTo("2");
        driver.slowRelease.countDown();
        fx.awaitBackendState(stuck, 4);
    }

    private static RequestOutcome outcome(Negotiation n, String requestedAs) {
        return n.outcomes().stream().filter(o -> o.requestedAs().equals(requestedAs)).findFirst().orElseThrow();
    }

    @Test
    void devicesPresentBeforeTheDriverAreProbedAndTheDriverLeavingClosesThem() throws Exception {
        fx = new XenbusFixture(true);
        DeviceId id = fx.createVif(5, 1, Map.of());
        Thread.sleep(50);
        assertThat(fx.backendState(id)).isEqualTo("1");
        fx.bus.addDriver(driver);
        fx.awaitBackendState(id, 2);
        fx.connects(id, 1);
        fx.bus.removeDriver(driver);
        assertThat(fx.backendState(id)).isEqualTo("6");
        assertThat(driver.callsOf(id)).containsExactly("probe", "connect", "disconnect", "remove");
        assertThat(fx.bus.devices()).isEmpty();
    }
}
