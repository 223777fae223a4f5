package io.backplane.backend.command;

import io.backplane.api.device.DeviceId;
import io.backplane.api.ring.RingChannel;
import io.backplane.api.ring.RingRequest;
import io.backplane.api.ring.RingStrategy;
import io.backplane.backend.RingStrategyRegistry;
import io.backplane.backend.XenbusTestSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The pv: commands on a live device driven through the real XenStore daemon and policy. */
class PvCommandsTest {
    private XenbusTestSupport xenbus;
    private PvCommands pv;
    private DeviceId id;

    @BeforeEach
    void start() throws Exception {
        xenbus = new XenbusTestSupport("vif queues max=2");
        RingStrategyRegistry strategies = new RingStrategyRegistry();
        strategies.addStrategy(new RingStrategy() {
            @Override
            public String name() {
                return "grant-copy";
            }

            @Override
            public int fitness(RingRequest request) {
                return 0;
            }

            @Override
            public RingChannel open(RingRequest request) {
                throw new UnsupportedOperationException();
            }
        }, Map.of(RingStrategy.NAME, "grant-copy", "service.ranking", -100, "service.id", 7L));
        pv = new PvCommands(xenbus.registry(), xenbus.xenStore(), xenbus.capabilities(), strategies);
        id = xenbus.connectedVif(3, 0, 2);
    }

    @AfterEach
    void stop() throws Exception {
        xenbus.close();
    }

    @Test
    void devicesListsTheDeviceWithItsDomainName() {
        String table = pv.devices();
        assertThat(table.lines().findFirst().orElseThrow())
                .matches("DOMAIN +TYPE +DEVID +STATE +FRONTEND +STRATEGY +QUEUES +ORDER +FEATURES");
        assertThat(table).containsPattern("guest3 +vif +0 +Connected +Connected +grant-copy +2 +0 +.*sg");
    }

    @Test
    void showSetsRequestedPublishedAndNegotiatedSideBySide() {
        xenbus.xenStore().write(id.backendPath() + "/request-queues", "4");
        xenbus.awaitKey(id.backendPath() + "/feature-control/multi-queue-max-queues/status", "clamped");
        String out = pv.show("guest3/vif/0");
        assertThat(out).startsWith("guest3/vif/0 (domain 3, /local/domain/0/backend/vif/3/0)");
        assertThat(out).contains("backend Connected, frontend Connected");
        assertThat(out).containsPattern("multi-queue-max-queues +4 +clamped +2 +multi-queue-num-queues=2");
        assertThat(out).containsPattern("feature-sg +- +- +1 +-");
        assertThat(out).contains("  queues = 2");
        assertThat(pv.show("3/vif/0")).isEqualTo(out);
    }

    @Test
    void requestPrintsTheOutcomeAndReconnects() {
        assertThat(pv.request("guest3/vif/0", "queues", "1"))
                .isEqualTo("guest3/vif/0: multi-queue-max-queues 1 accepted, published 1; the device reconnects to apply it");
        assertThat(xenbus.xenStore().exists(id.backendPath() + "/request-multi-queue-max-queues")).as("acknowledged").isFalse();
        xenbus.awaitKey(id.backendPath() + "/state", "5");
        assertThat(pv.request("guest3/vif/0", "queues", "9")).startsWith(
                "guest3/vif/0: multi-queue-max-queues 9 clamped, published 2 (");
        // Written under the Xen key, as the toolstack writes requests; a clamped one stays.
        assertThat(xenbus.xenStore().tryRead(id.backendPath() + "/request-multi-queue-max-queues")).contains("9");
        assertThat(xenbus.xenStore().exists(id.backendPath() + "/request-queues")).isFalse();
    }

    @Test
    void aRejectedRequestSaysTheDefaultReplacedAnEarlierValue() {
        assertThat(pv.request("guest3/vif/0", "queues", "1")).contains("accepted, published 1");
        xenbus.awaitKey(id.backendPath() + "/state", "5");
        String rejected = pv.request("guest3/vif/0", "queues", "99");
        assertThat(rejected).startsWith("guest3/vif/0: multi-queue-max-queues 99 rejected, the default ")
                .contains(" published instead (99 is outside the range 1..16");
        String def = xenbus.xenStore().read(id.backendPath() + "/multi-queue-max-queues");
        assertThat(def).isNotEqualTo("1");
        assertThat(rejected).contains("the default " + def + " published instead");
        assertThat(pv.request("guest3/vif/0", "queues", "99")).as("nothing changes the second time")
                .isEqualTo("guest3/vif/0: multi-queue-max-queues 99 rejected (" + xenbus.xenStore()
                        .read(id.backendPath() + "/feature-control/multi-queue-max-queues/reason") + ")");
    }

    @Test
    void badNamesAndFeaturesAreOneLineErrors() {
        assertThatThrownBy(() -> pv.show("guest9/vif/0")).hasMessage("no domain named 'guest9' (xl:list lists them)");
        assertThatThrownBy(() -> pv.show("3/vif/7")).hasMessage("unknown device 3/vif/7 (pv:devices lists them)");
        assertThatThrownBy(() -> pv.show("3-vif-0")).hasMessageStartingWith("'3-vif-0' is not a device: write DOMAIN/TYPE/DEVID");
        assertThatThrownBy(() -> pv.show("3/vbd/xvda")).hasMessageStartingWith("'xvda' is not a device id");
        assertThatThrownBy(() -> pv.request("guest3/vif/0", "bogus", "1"))
                .hasMessageStartingWith("vif has no feature 'bogus'; known: feature-gso-tcpv4 ");
        assertThat(xenbus.xenStore().tryRead(id.backendPath() + "/request-bogus")).as("nothing written").isEmpty();
    }

    @Test
    void strategiesAreListed() {
        assertThat(pv.strategies()).containsPattern("grant-copy +-100 +7");
    }

    @Test
    void strategyRefusesAnUnknownStrategyOrDeviceInOneLine() {
        assertThatThrownBy(() -> pv.strategy("guest3/vif/0", "nope")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("no ring strategy named 'nope'; registered: grant-copy");
        assertThatThrownBy(() -> pv.strategy("guest3/vif/9", "grant-copy")).isInstanceOf(IllegalArgumentException.class)
                .message().doesNotContain("\n");
        // The test driver's device keeps BackendDevice's default: no swaps.
        assertThatThrownBy(() -> pv.strategy("guest3/vif/0")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("guest3/vif/0: this device type does not support ring strategy swaps");
    }
}
