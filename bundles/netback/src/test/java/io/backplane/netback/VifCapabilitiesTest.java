package io.backplane.netback;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.backend.BackendContext;
import io.backplane.api.backend.XenbusKeys;
import io.backplane.api.device.DeviceId;
import io.backplane.api.device.FeatureControlLayout;
import io.backplane.api.device.FeatureDescriptor;
import io.backplane.api.device.Negotiation;
import io.backplane.api.device.NegotiationPolicy;
import io.backplane.api.sink.SinkRequest;
import io.backplane.api.xenstore.XenStore;
import io.backplane.netback.sink.MemorySink;
import io.backplane.policy.FeatureNegotiator;
import io.backplane.policy.MergedCapabilityRegistry;
import io.backplane.policy.PolicyRules;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A vif is offered only what netback implements ({@link VifFeatures#IMPLEMENTED}): checked on the
 * capabilities component, on the connect code that must take each offer up, and end to end with
 * the real policy, the xenbus core, netback and a netfront guest process in the sim.
 */
class VifCapabilitiesTest {
    static SimNet net;

    @BeforeAll
    static void start() throws Exception {
        net = new SimNet();
    }

    @AfterAll
    static void stop() throws Exception {
        net.close();
    }

    static Set<String> withoutPersistent() {
        Set<String> keys = new java.util.TreeSet<>(VifFeatures.IMPLEMENTED.keySet());
        keys.remove(VifFeatures.PERSISTENT);
        return keys;
    }

    static Set<String> offered(VifCapabilities caps) {
        return caps.features().stream().map(FeatureDescriptor::key).collect(Collectors.toCollection(java.util.TreeSet::new));
    }

    @Test
    void offersExactlyWhatNetbackImplementsAndPersistentGrantsOnlyWhileAStrategyServesThem() {
        VifCapabilities caps = new VifCapabilities();
        assertThat(offered(caps)).as("no strategy serves persistent grants").isEqualTo(withoutPersistent());
        assertThat(offered(caps)).as("no control ring, no multicast filtering in netback")
                .doesNotContain("feature-ctrl-ring", "feature-multicast-control", "feature-dynamic-multicast-control");
        var strategy = new io.backplane.ring.persistent.PersistentStrategy(net.sim,
                io.backplane.ring.persistent.PersistentLimits.DEFAULTS);
        caps.addPersistentStrategy(strategy);
        assertThat(offered(caps)).isEqualTo(new java.util.TreeSet<>(VifFeatures.IMPLEMENTED.keySet()));
        caps.removePersistentStrategy(strategy);
        assertThat(offered(caps)).isEqualTo(withoutPersistent());
        assertThat(caps.features()).filteredOn(f -> f.key().equals(XenbusKeys.MAX_RING_PAGE_ORDER)).singleElement()
                .satisfies(f -> assertThat(f.aliases()).contains("ring-order"));
    }

    @Test
    void connectReadsTheFrontendsAnswerToEveryOffer() {
        DeviceId id = new DeviceId(0, "vif", 9, 0);
        net.xs.write(id.backendPath() + "/mac", "00:16:3e:00:00:09");
        Map<String, String> frontend = Map.of("tx-ring-ref", "8", "rx-ring-ref", "9", "event-channel-tx", "5",
                "event-channel-rx", "6", "request-rx-copy", "1", "feature-sg", "1", "feature-gso-tcpv4", "1",
                "feature-gso-tcpv6", "1", "feature-ipv6-csum-offload", "1");
        frontend.forEach((k, v) -> net.xs.write(id.frontendPath() + "/" + k, v));
        Set<String> read = ConcurrentHashMap.newKeySet();
        KeysContext keys = new KeysContext(net.xs, id, SimNet.offer(1));
        BackendContext recording = new BackendContext() {
            public DeviceId id() {
                return id;
            }

            public XenStore xenstore() {
                return net.xs;
            }

            public Negotiation negotiation() {
                return keys.negotiation();
            }

            public Optional<String> backendKey(String key) {
                return keys.backendKey(key);
            }

            public Optional<String> frontendKey(String key) {
                read.add(key);
                return keys.frontendKey(key);
            }

            public void fatal(String reason) {
                keys.fatal(reason);
            }

            public void log(String message) {
                keys.log(message);
            }
        };
        FrontendConfig cfg = NetbackXenbus.read(recording);
        assertThat(read).as("an offer whose answer netback never reads is a promise no code keeps")
                .containsAll(VifFeatures.IMPLEMENTED.values());
        assertThat(cfg.queues().get(0).split()).isTrue();
        assertThat(cfg.sg() && cfg.gsoTcpv4() && cfg.gsoTcpv6() && cfg.ipv6Csum()).isTrue();
    }

    /** The real policy over netback's capabilities, as the runtime wires it (no admin rules). */
    static NegotiationPolicy policy(VifCapabilities caps) {
        MergedCapabilityRegistry registry = new MergedCapabilityRegistry();
        registry.addCapabilities(caps, Map.of("service.id", 1L));
        FeatureNegotiator negotiator = new FeatureNegotiator(net.xs, registry);
        return new NegotiationPolicy() {
            @Override
            public Negotiation negotiate(DeviceId device) {
                return negotiator.negotiate(device, PolicyRules.NONE);
            }

            @Override
            public Negotiation preview(DeviceId device) {
                return negotiator.preview(device, PolicyRules.NONE);
            }
        };
    }

    @Test
    void aConnectedVifPublishesOnlyWhatNetbackImplements() throws Exception {
        NegotiationPolicy policy = policy(new VifCapabilities());
        NetbackDriver driver = new NetbackDriver(RealRings.grantCopy(net.sim), net.sim,
                (SinkRequest r) -> new MemorySink(r.name(), false, "test"), NetbackDriver.Settings.defaults());
        int domid = net.createDomain("caps");
        try (NetbackBus bus = new NetbackBus(net.xs, driver, policy)) {
            DeviceId id = net.addVif(domid, 0, "00:16:3e:20:00:01", "xenbr0", null);
            net.startGuest(domid, "ip=10.2.0.2,queues=2,count=1,rate=100,size=60");
            assertThat(SimNet.await(20, () -> "4".equals(net.read(id.backendPath() + "/state"))))
                    .as("backend Connected; log:\n%s", bus.logText(id)).isTrue();
            Set<String> published = net.xs.directory(id.backendPath()).stream()
                    .filter(k -> !k.equals(FeatureControlLayout.CONTROL_DIR)) // the policy's answers, for the toolstack
                    .filter(k -> k.startsWith("feature-") || k.startsWith("multi-queue-max-") || k.startsWith("max-"))
                    .collect(Collectors.toCollection(java.util.TreeSet::new));
            assertThat(published).as("published in %s (grant-copy only: no feature-persistent)", id.backendPath())
                    .isEqualTo(withoutPersistent());
            net.xs.rm(id.backendPath());
        }
    }

    /**
     * Under the real policy with ring-persistent registered: a netfront takes persistent grants
     * and 4-page rings (min of its own 2 and the default offer 4); {@code pv:request DEV
     * max-ring-page-order 1} and then {@code persistent 0} each take the vif through Closing and
     * back onto what the new offer allows.
     */
    @Test
    void ringOrderAndPersistentGrantsFollowTheOperatorsRequests() throws Exception {
        VifCapabilities caps = new VifCapabilities();
        caps.addPersistentStrategy(new io.backplane.ring.persistent.PersistentStrategy(net.sim,
                io.backplane.ring.persistent.PersistentLimits.DEFAULTS));
        NetbackDriver driver = new NetbackDriver(RealRings.all(net.sim), net.sim,
                (SinkRequest r) -> new MemorySink(r.name(), true, "test"), NetbackDriver.Settings.defaults());
        int domid = net.createDomain("requests");
        try (NetbackBus bus = new NetbackBus(net.xs, driver, policy(caps))) {
            DeviceId id = net.addVif(domid, 0, "00:16:3e:20:00:02", "xenbr0", null);
            net.startGuest(domid, "ip=10.2.0.3,queues=1,ring-order=2,count=100000,rate=2000,size=60:1514");
            assertThat(SimNet.await(20, () -> "4".equals(net.read(id.backendPath() + "/state"))))
                    .as("backend Connected; log:\n%s", bus.logText(id)).isTrue();
            assertThat(bus.status(id)).containsEntry("ring-page-order", "2").containsEntry("strategy", "persistent");

            bus.request(id, "max-ring-page-order", "1");
            assertThat(SimNet.await(20, () -> net.stat(id, "connections") == 2 && "4".equals(net.read(id.backendPath() + "/state"))
                    && "1".equals(bus.status(id).get("ring-page-order")))).as("log:\n%s", bus.logText(id)).isTrue();
            assertThat(net.read(id.frontendPath() + "/ring-page-order")).isEqualTo("1");

            bus.request(id, "persistent", "0");
            assertThat(SimNet.await(20, () -> net.stat(id, "connections") == 3 && "4".equals(net.read(id.backendPath() + "/state"))
                    && "grant-copy".equals(bus.status(id).get("strategy")))).as("log:\n%s", bus.logText(id)).isTrue();
            assertThat(net.read(id.backendPath() + "/feature-persistent")).isEqualTo("0");
            assertThat(net.read(id.frontendPath() + "/feature-persistent")).as("not taken when not offered").isEmpty();
            long verified = net.stat(id, "rx-verified");
            assertThat(SimNet.await(10, () -> net.stat(id, "rx-verified") > verified)).as("frames loop back").isTrue();
            assertThat(net.stat(id, "rx-bad")).isZero();
            assertThat(net.stat(id, "tx-failed")).isZero();
            net.xs.rm(id.backendPath());
        }
    }
}
