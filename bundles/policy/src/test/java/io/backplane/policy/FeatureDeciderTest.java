package io.backplane.policy;

import io.backplane.api.device.DeviceId;
import io.backplane.api.device.FeatureDescriptor;
import io.backplane.api.device.RequestOutcome;
import io.backplane.api.device.RequestSource;
import io.backplane.api.device.RequestStatus;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FeatureDeciderTest {

    private static final DeviceId VIF = new DeviceId(0, "vif", 3, 0);
    private static final DeviceId VBD7 = new DeviceId(0, "vbd", 7, 51712);
    private final List<FeatureDescriptor> netif = FixtureCapabilities.vif().features();
    private final List<FeatureDescriptor> blkif = FixtureCapabilities.vbd().features();
    private final FeatureDecider decider = new FeatureDecider();

    private static FeatureRequest req(String name, String value) {
        return new FeatureRequest(name, value, RequestSource.REQUEST_KEY);
    }

    private static PolicyRules rules(String... r) {
        return PolicyRules.parse(r);
    }

    @Test
    void noRequestsPublishesTheCapabilityDefaults() {
        var d = decider.decide(VIF, Optional.empty(), netif, PolicyRules.NONE, List.of());
        assertThat(d.outcomes()).isEmpty();
        assertThat(d.offer()).containsEntry("feature-sg", "1")
                .containsEntry("multi-queue-max-queues", Integer.toString(Runtime.getRuntime().availableProcessors()))
                .hasSize(netif.size());
    }

    @Test
    void acceptedRequestIsPublishedUnderTheXenKeyEvenWhenAskedByAlias() {
        var d = decider.decide(VIF, Optional.empty(), netif, PolicyRules.NONE,
                List.of(req("queues", "2"), req("feature-sg", "off")));
        assertThat(d.offer()).containsEntry("multi-queue-max-queues", "2").containsEntry("feature-sg", "0");
        assertThat(d.outcomes()).extracting(RequestOutcome::feature, RequestOutcome::status, RequestOutcome::effectiveValue)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("feature-sg", RequestStatus.ACCEPTED, "0"),
                        org.assertj.core.groups.Tuple.tuple("multi-queue-max-queues", RequestStatus.ACCEPTED, "2"));
    }

    @Test
    void policyMaxClampsWithTheRuleAsReason() {
        var d = decider.decide(VIF, Optional.empty(), netif, rules("vif queues max=4"),
                List.of(req("multi-queue-max-queues", "8")));
        RequestOutcome o = d.outcomes().get(0);
        assertThat(o.status()).isEqualTo(RequestStatus.CLAMPED);
        assertThat(o.effectiveValue()).isEqualTo("4");
        assertThat(o.reason()).contains("limited to 4").contains("'vif queues max=4'");
        assertThat(d.offer()).containsEntry("multi-queue-max-queues", "4");
    }

    @Test
    void policyMaxAlsoLimitsTheDefault() {
        var d = decider.decide(VIF, Optional.empty(), netif, rules("vif queues max=1"), List.of());
        assertThat(d.offer()).containsEntry("multi-queue-max-queues", "1");
    }

    @Test
    void valueBeyondWhatTheBackendCanDoIsRejectedNotClamped() {
        var d = decider.decide(VIF, Optional.empty(), netif, rules("vif queues max=4"),
                List.of(req("queues", "99"), req("feature-sg", "maybe"), req("queues-x", "1")));
        assertThat(d.outcomes()).allSatisfy(o -> assertThat(o.status()).isEqualTo(RequestStatus.REJECTED));
        assertThat(d.outcomes()).extracting(RequestOutcome::reason).containsExactlyInAnyOrder(
                "99 is outside the range 1..16 the vif backend offers for multi-queue-max-queues",
                "'maybe' is not on/off (use 1 or 0)",
                "the vif backend has no feature named 'queues-x'");
        // rejected: the device keeps its (policy-limited) default
        assertThat(d.offer()).containsEntry("multi-queue-max-queues",
                Integer.toString(Math.min(4, Runtime.getRuntime().availableProcessors())));
        assertThat(d.offer()).doesNotContainKey("queues-x");
    }

    @Test
    void deniedFeatureForOneDomainIsRejectedAndForcedOff() {
        PolicyRules r = rules("vbd@7 feature-persistent deny");
        var d7 = decider.decide(VBD7, Optional.empty(), blkif, r, List.of(req("persistent", "1")));
        assertThat(d7.outcomes().get(0).status()).isEqualTo(RequestStatus.REJECTED);
        assertThat(d7.outcomes().get(0).reason()).isEqualTo("forbidden by policy rule 'vbd@7 feature-persistent deny'");
        assertThat(d7.offer()).containsEntry("feature-persistent", "0");

        var d3 = decider.decide(new DeviceId(0, "vbd", 3, 51712), Optional.empty(), blkif, r,
                List.of(req("persistent", "1")));
        assertThat(d3.outcomes().get(0).status()).isEqualTo(RequestStatus.ACCEPTED);
        assertThat(d3.offer()).containsEntry("feature-persistent", "1");
    }

    @Test
    void turningADeniedFeatureOffIsAccepted() {
        var d = decider.decide(VBD7, Optional.empty(), blkif, rules("vbd@7 feature-persistent deny"),
                List.of(req("feature-persistent", "0")));
        assertThat(d.outcomes().get(0).status()).isEqualTo(RequestStatus.ACCEPTED);
    }

    @Test
    void domainRuleBeatsTypeRuleAndNamesWork() {
        PolicyRules r = rules("vif queues max=2", "vif@web queues max=8");
        var web = decider.decide(VIF, Optional.of("web"), netif, r, List.of(req("queues", "8")));
        assertThat(web.outcomes().get(0).status()).isEqualTo(RequestStatus.ACCEPTED);
        var other = decider.decide(VIF, Optional.of("db"), netif, r, List.of(req("queues", "8")));
        assertThat(other.outcomes().get(0).effectiveValue()).isEqualTo("2");
    }

    @Test
    void requestKeyBeatsRequireDirAndRecordedValue() {
        var d = decider.decide(VIF, Optional.empty(), netif, PolicyRules.NONE, List.of(
                new FeatureRequest("multi-queue-max-queues", "1", RequestSource.RECORDED),
                new FeatureRequest("multi-queue-max-queues", "3", RequestSource.REQUIRE_DIR),
                new FeatureRequest("queues", "2", RequestSource.REQUEST_KEY)));
        assertThat(d.offer()).containsEntry("multi-queue-max-queues", "2");
        // the recorded one is superseded silently; the require/ one is reported as a duplicate
        assertThat(d.outcomes()).hasSize(2);
        assertThat(d.outcomes().get(1).source()).isEqualTo(RequestSource.REQUIRE_DIR);
        assertThat(d.outcomes().get(1).status()).isEqualTo(RequestStatus.REJECTED);
        assertThat(d.outcomes().get(1).reason()).contains("duplicate");
    }

    @Test
    void policyDefaultAndMin() {
        var d = decider.decide(VBD7, Optional.empty(), blkif, rules("vbd max-ring-page-order default=1 min=2"),
                List.of());
        assertThat(d.offer()).containsEntry("max-ring-page-order", "2");
        var d2 = decider.decide(VBD7, Optional.empty(), blkif, rules("vbd ring-order min=2"),
                List.of(req("max-ring-page-order", "0")));
        assertThat(d2.outcomes().get(0).status()).isEqualTo(RequestStatus.CLAMPED);
        assertThat(d2.outcomes().get(0).reason()).contains("raised to 2");
    }

    @Test
    void badRulesAreRefusedWithTheirNumber() {
        assertThatThrownBy(() -> rules("vif queues max=4", "vif queues max=four"))
                .hasMessage("policy rule 2 'vif queues max=four': max 'four' is not a number");
        assertThatThrownBy(() -> rules("vif queues"))
                .hasMessageContaining("expected SCOPE FEATURE CONSTRAINT");
        assertThatThrownBy(() -> rules("* queues max=1")).hasMessageContaining("bad device type");
        assertThatThrownBy(() -> rules("vif queues maximum=1")).hasMessageContaining("unknown constraint 'maximum=1'");
    }

    @Test
    void rulesThatCannotApplyAreReported() {
        MergedCapabilityRegistry reg = new MergedCapabilityRegistry();
        reg.addCapabilities(FixtureCapabilities.vif(), java.util.Map.of());
        List<String> problems = rules("vif nonsense max=1", "vif feature-sg max=0", "vif queues max=4")
                .problems(reg::find, reg.deviceTypes());
        assertThat(problems).hasSize(2);
        assertThat(problems.get(0)).contains("no vif backend feature named 'nonsense'");
        assertThat(problems.get(1)).contains("max/min only apply to numeric features");
    }
}
