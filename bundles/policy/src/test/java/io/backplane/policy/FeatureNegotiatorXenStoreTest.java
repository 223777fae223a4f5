package io.backplane.policy;

import io.backplane.api.device.DeviceId;
import io.backplane.api.device.Negotiation;
import io.backplane.api.device.RequestStatus;
import io.backplane.api.xenstore.XsError;
import io.backplane.api.xenstore.XsException;
import io.backplane.api.xenstore.XsPerm;
import io.backplane.xenstore.client.EmbeddedXenStore;
import io.backplane.xenstore.store.Connection;
import io.backplane.xenstore.store.Quotas;
import io.backplane.xenstore.store.Store;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The policy against the real XenStore of bundles/xenstore: requests written as the toolstack
 * writes them, answers read back node by node, and the guest's view checked through an
 * unprivileged connection of the guest's domain.
 */
class FeatureNegotiatorXenStoreTest {

    private static final int GUEST = 5;
    private static final DeviceId VIF = new DeviceId(0, "vif", GUEST, 0);
    private static final DeviceId VBD = new DeviceId(0, "vbd", GUEST, 51712);

    private Store store;
    private EmbeddedXenStore xs;
    private Connection guest;
    private FeatureNegotiator negotiator;

    @BeforeEach
    void setUp() {
        store = new Store(Quotas.XEN_4_17);
        xs = new EmbeddedXenStore(store);
        guest = store.connect(GUEST, false, (path, token) -> { });
        MergedCapabilityRegistry registry = new MergedCapabilityRegistry();
        registry.addCapabilities(FixtureCapabilities.vif(), Map.of());
        registry.addCapabilities(FixtureCapabilities.vbd(), Map.of());
        negotiator = new FeatureNegotiator(xs, registry);
        xs.write("/local/domain/" + GUEST + "/name", "web");
        device(VIF);
        device(VBD);
    }

    @AfterEach
    void tearDown() {
        store.disconnect(guest);
        xs.close();
    }

    /** A backend directory as libxl leaves it: (n0,rD) on the directory and every key. */
    private void device(DeviceId d) {
        xs.mkdir(d.backendPath());
        xs.setPerms(d.backendPath(), List.of(XsPerm.none(0), XsPerm.read(GUEST)));
        xs.write(d.backendPath() + "/state", "1");
    }

    /** A request as the toolstack writes it: hidden from the guest. */
    private void request(DeviceId d, String feature, String value) {
        String key = d.backendPath() + "/request-" + feature;
        xs.write(key, value);
        xs.setPerms(key, List.of(XsPerm.none(0)));
    }

    private String guestRead(String path) {
        return new String(store.read(guest, 0, path), StandardCharsets.UTF_8);
    }

    @Test
    void acceptedClampedAndRejectedRequestsAreEachVisibleInXenStore() {
        request(VIF, "multi-queue-max-queues", "8");   // clamped by policy
        request(VIF, "sg", "0");                       // accepted, asked by alias
        request(VIF, "feature-gso-tcpv4", "maybe");    // rejected: bad value
        request(VIF, "teleport", "1");                 // rejected: unknown
        Negotiation n = negotiator.negotiate(VIF, PolicyRules.parse("vif queues max=4"));

        String be = VIF.backendPath();
        assertThat(xs.read(be + "/multi-queue-max-queues")).isEqualTo("4");
        assertThat(xs.read(be + "/feature-sg")).isEqualTo("0");
        assertThat(xs.read(be + "/feature-gso-tcpv4")).isEqualTo("1"); // the default stays
        assertThat(xs.exists(be + "/teleport")).isFalse();

        assertThat(xs.read(be + "/feature-control/multi-queue-max-queues/status")).isEqualTo("clamped");
        assertThat(xs.read(be + "/feature-control/multi-queue-max-queues/requested")).isEqualTo("8");
        assertThat(xs.read(be + "/feature-control/multi-queue-max-queues/value")).isEqualTo("4");
        assertThat(xs.read(be + "/feature-control/multi-queue-max-queues/reason"))
                .isEqualTo("limited to 4 by policy rule 'vif queues max=4'");
        assertThat(xs.read(be + "/feature-control/feature-sg/status")).isEqualTo("accepted");
        assertThat(xs.exists(be + "/feature-control/feature-sg/reason")).isFalse();
        assertThat(xs.read(be + "/feature-control/feature-gso-tcpv4/status")).isEqualTo("rejected");
        assertThat(xs.read(be + "/feature-control/feature-gso-tcpv4/reason")).isEqualTo("'maybe' is not on/off (use 1 or 0)");
        assertThat(xs.read(be + "/feature-control/teleport/reason")).isEqualTo("the vif backend has no feature named 'teleport'");

        // The request key is removed on acceptance only.
        assertThat(xs.exists(be + "/request-sg")).isFalse();
        assertThat(xs.read(be + "/request-multi-queue-max-queues")).isEqualTo("8");
        assertThat(xs.read(be + "/request-feature-gso-tcpv4")).isEqualTo("maybe");
        assertThat(xs.read(be + "/request-teleport")).isEqualTo("1");

        assertThat(n.outcomes()).extracting(o -> o.status()).containsExactlyInAnyOrder(
                RequestStatus.CLAMPED, RequestStatus.ACCEPTED, RequestStatus.REJECTED, RequestStatus.REJECTED);
    }

    @Test
    void theGuestSeesTheOfferButNeitherRequestsNorAnswers() {
        request(VBD, "max-ring-page-order", "0");
        negotiator.negotiate(VBD, PolicyRules.NONE);
        assertThat(guestRead(VBD.backendPath() + "/max-ring-page-order")).isEqualTo("0");
        request(VBD, "persistent", "1");
        assertThatThrownBy(() -> guestRead(VBD.backendPath() + "/request-persistent"))
                .isInstanceOfSatisfying(XsException.class, e -> assertThat(e.error()).isEqualTo(XsError.EACCES));
        assertThatThrownBy(() -> guestRead(VBD.backendPath() + "/feature-control/max-ring-page-order/status"))
                .isInstanceOfSatisfying(XsException.class, e -> assertThat(e.error()).isEqualTo(XsError.EACCES));
        assertThat(xs.getPerms(VBD.backendPath() + "/feature-control")).containsExactly(XsPerm.none(0));
    }

    @Test
    void requireDirectoryOfTheRfcIsReadAndAcknowledged() {
        xs.write(VBD.backendPath() + "/require/feature-persistent", "0");
        negotiator.negotiate(VBD, PolicyRules.NONE);
        assertThat(xs.read(VBD.backendPath() + "/feature-persistent")).isEqualTo("0");
        assertThat(xs.exists(VBD.backendPath() + "/require/feature-persistent")).isFalse();
    }

    @Test
    void policyChangesReachLiveDevicesThroughTheRecordedRequest() {
        request(VIF, "queues", "8");
        xs.write(VIF.backendPath() + "/state", "4");
        negotiator.negotiate(VIF, PolicyRules.parse("vif queues max=4"));
        assertThat(xs.read(VIF.backendPath() + "/multi-queue-max-queues")).isEqualTo("4");

        // The admin lifts the limit: the pending clamped request is now accepted and acknowledged.
        assertThat(negotiator.liveDevices(0)).containsExactly(VIF);
        Negotiation n = negotiator.negotiate(VIF, PolicyRules.parse("vif queues max=8"));
        assertThat(xs.read(VIF.backendPath() + "/multi-queue-max-queues")).isEqualTo("8");
        assertThat(xs.exists(VIF.backendPath() + "/request-queues")).isFalse();
        assertThat(n.changed()).containsExactly("multi-queue-max-queues");
        assertThat(n.needsReconnect()).isTrue();

        // Tightened again: the accepted request is remembered and clamped anew.
        negotiator.negotiate(VIF, PolicyRules.parse("vif queues max=2"));
        assertThat(xs.read(VIF.backendPath() + "/multi-queue-max-queues")).isEqualTo("2");
        assertThat(xs.read(VIF.backendPath() + "/feature-control/multi-queue-max-queues/status")).isEqualTo("clamped");

        // A device not yet probed (state 1) is not live.
        assertThat(negotiator.liveDevices(0)).doesNotContain(VBD);
    }

    @Test
    void previewWritesNothingAndAMissingDeviceIsAnError() {
        request(VIF, "queues", "2");
        Negotiation n = negotiator.preview(VIF, PolicyRules.NONE);
        assertThat(n.offer()).containsEntry("multi-queue-max-queues", "2");
        assertThat(xs.exists(VIF.backendPath() + "/multi-queue-max-queues")).isFalse();
        assertThat(xs.exists(VIF.backendPath() + "/request-queues")).isTrue();
        assertThatThrownBy(() -> negotiator.negotiate(new DeviceId(0, "vif", GUEST, 9), PolicyRules.NONE))
                .hasMessageContaining("has no backend directory");
        assertThatThrownBy(() -> negotiator.negotiate(new DeviceId(0, "vscsi", GUEST, 0), PolicyRules.NONE))
                .hasMessageContaining("no backend capabilities registered for device type 'vscsi'");
    }
}
