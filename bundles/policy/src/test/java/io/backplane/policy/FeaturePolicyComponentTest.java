package io.backplane.policy;

import io.backplane.api.device.DeviceCapabilities;
import io.backplane.api.device.DeviceId;
import io.backplane.api.device.Negotiation;
import io.backplane.api.device.NegotiationListener;
import io.backplane.api.xenstore.XsPerm;
import io.backplane.xenstore.client.EmbeddedXenStore;
import io.backplane.xenstore.store.Quotas;
import io.backplane.xenstore.store.Store;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.osgi.service.log.Logger;

import java.lang.annotation.Annotation;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The DS component as SCR drives it (constructed with its services and configuration, listeners
 * bound, modified), against the real
 * store: a policy edit re-negotiates live devices and tells the backends; a bad edit changes nothing.
 */
class FeaturePolicyComponentTest {

    private static final DeviceId VIF = new DeviceId(0, "vif", 4, 0);

    private EmbeddedXenStore xs;
    private FeaturePolicy policy;
    private MergedCapabilityRegistry registry;
    private final List<String> logged = new ArrayList<>();
    private final List<Negotiation> heard = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        xs = new EmbeddedXenStore(new Store(Quotas.XEN_4_17));
        registry = new MergedCapabilityRegistry();
        registry.addCapabilities(FixtureCapabilities.vif(), Map.of());
        Logger log = (Logger) Proxy.newProxyInstance(Logger.class.getClassLoader(), new Class<?>[] {Logger.class},
                (proxy, method, args) -> {
                    if (args != null && args.length > 0 && args[0] instanceof String format) {
                        String line = format;
                        for (int i = 1; i < args.length; i++) {
                            line = line.replaceFirst("\\{}", Matcher.quoteReplacement(String.valueOf(args[i])));
                        }
                        logged.add(method.getName() + " " + line);
                    }
                    return null;
                });
        policy = new FeaturePolicy(xs, registry, log, config("vif queues max=4"));
        policy.addListener((NegotiationListener) heard::add, Map.of(DeviceCapabilities.DEVICE_TYPE, "vif"));
        policy.addListener(n -> { throw new AssertionError("a vbd listener heard of a vif"); },
                Map.of(DeviceCapabilities.DEVICE_TYPE, "vbd"));

        xs.mkdir(VIF.backendPath());
        xs.setPerms(VIF.backendPath(), List.of(XsPerm.none(0), XsPerm.read(4)));
        xs.write(VIF.backendPath() + "/request-multi-queue-max-queues", "8");
    }

    @AfterEach
    void tearDown() {
        xs.close();
    }

    private static PolicyConfig config(String... rules) {
        return new PolicyConfig() {
            public String[] rules() {
                return rules;
            }

            public int backendDomid() {
                return 0;
            }

            public Class<? extends Annotation> annotationType() {
                return PolicyConfig.class;
            }
        };
    }

    @Test
    void aPolicyEditRenegotiatesLiveDevicesAndTellsTheirBackends() {
        xs.write(VIF.backendPath() + "/state", "2"); // probed: InitWait
        policy.negotiate(VIF);
        assertThat(xs.read(VIF.backendPath() + "/multi-queue-max-queues")).isEqualTo("4");

        policy.modified(config("vif queues max=6"));
        assertThat(xs.read(VIF.backendPath() + "/multi-queue-max-queues")).isEqualTo("6");
        assertThat(heard).singleElement().satisfies(n -> {
            assertThat(n.device()).isEqualTo(VIF);
            assertThat(n.changed()).containsExactly("multi-queue-max-queues");
            assertThat(n.needsReconnect()).isTrue();
        });
        assertThat(policy.rules()).containsExactly("vif queues max=6");
    }

    @Test
    void aBadEditKeepsThePreviousRules() {
        xs.write(VIF.backendPath() + "/state", "4");
        policy.negotiate(VIF);
        policy.modified(config("vif queues max=2", "vif queues max=lots"));
        assertThat(policy.rules()).containsExactly("vif queues max=4");
        assertThat(xs.read(VIF.backendPath() + "/multi-queue-max-queues")).isEqualTo("4");
        assertThat(heard).isEmpty();
        assertThat(logged).anySatisfy(l -> assertThat(l).startsWith("error Feature policy not changed"));
    }

    @Test
    void aDeviceNotYetProbedIsLeftToItsBackend() {
        xs.write(VIF.backendPath() + "/state", "1");
        policy.modified(config("vif queues max=6"));
        assertThat(xs.exists(VIF.backendPath() + "/multi-queue-max-queues")).isFalse();
        assertThat(heard).isEmpty();
    }

    @Test
    void aRuleForABackendNotRegisteredYetIsCheckedAtItsFirstNegotiation() {
        policy.modified(config("vif queues max=4", "vbd ring-order max=2", "vbd nonsense max=1", "vif bogus max=1"));
        assertThat(warnings()).containsExactly("warn Feature policy: rule 'vif bogus max=1': no vif backend feature named 'bogus'");

        registry.addCapabilities(FixtureCapabilities.vbd(), Map.of()); // blkback starts after the policy
        DeviceId vbd = new DeviceId(0, "vbd", 4, 51712);
        xs.mkdir(vbd.backendPath());
        xs.setPerms(vbd.backendPath(), List.of(XsPerm.none(0), XsPerm.read(4)));
        xs.write(vbd.backendPath() + "/state", "2");
        policy.negotiate(vbd);
        policy.negotiate(vbd);
        assertThat(warnings()).containsExactly(
                "warn Feature policy: rule 'vif bogus max=1': no vif backend feature named 'bogus'",
                "warn Feature policy: rule 'vbd nonsense max=1': no vbd backend feature named 'nonsense'");
    }

    @Test
    void aProbeBeforeTheRegistryHeardOfItsBackendWaitsForTheCapabilities() throws Exception {
        DeviceId vbd = new DeviceId(0, "vbd", 4, 51712);
        xs.mkdir(vbd.backendPath());
        xs.setPerms(vbd.backendPath(), List.of(XsPerm.none(0), XsPerm.read(4)));
        xs.write(vbd.backendPath() + "/state", "1");
        CompletableFuture<Negotiation> probe = CompletableFuture.supplyAsync(() -> policy.negotiate(vbd));
        Thread.sleep(200); // the driver bound and probing; the registry not told yet
        assertThat(probe).isNotDone();
        registry.addCapabilities(FixtureCapabilities.vbd(), Map.of());
        assertThat(probe.get(FeaturePolicy.CAPABILITIES_WAIT.toSeconds(), TimeUnit.SECONDS).offer()).isNotEmpty();
    }

    private List<String> warnings() {
        return logged.stream().filter(l -> l.startsWith("warn Feature policy:")).toList();
    }
}
