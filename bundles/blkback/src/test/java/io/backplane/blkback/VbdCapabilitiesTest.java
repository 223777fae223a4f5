package io.backplane.blkback;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.device.DeviceId;
import io.backplane.api.device.FeatureControlLayout;
import io.backplane.api.device.FeatureDescriptor;
import io.backplane.api.device.Negotiation;
import io.backplane.api.device.NegotiationPolicy;
import io.backplane.api.ring.RingChannel;
import io.backplane.api.ring.RingRequest;
import io.backplane.api.ring.RingStrategy;
import io.backplane.nativeio.NativeIo;
import io.backplane.policy.FeatureNegotiator;
import io.backplane.policy.MergedCapabilityRegistry;
import io.backplane.policy.PolicyRules;
import io.backplane.ring.persistent.PersistentLimits;
import io.backplane.ring.persistent.PersistentStrategy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.AbstractMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A vbd is offered only what blkback implements ({@link VbdFeatures#IMPLEMENTED}), and
 * {@code feature-persistent} only while a ring strategy that serves it is registered: checked on
 * the capabilities component, on the code that turns the offer into behaviour, and end to end
 * with the real policy, the xenbus core, blkback and a blkfront guest process in the sim.
 */
class VbdCapabilitiesTest {
    static final int DEVID = 51712;

    @TempDir
    Path dir;

    @Test
    void offersWhatBlkbackImplementsAndPersistentGrantsOnlyWhileAStrategyServesThem() {
        VbdCapabilities caps = new VbdCapabilities();
        Set<String> withoutPersistent = new TreeSet<>(VbdFeatures.IMPLEMENTED);
        withoutPersistent.remove(VbdFeatures.PERSISTENT);
        assertThat(keys(caps)).as("no strategy serves persistent grants").isEqualTo(withoutPersistent);

        RingStrategy one = new NamedStrategy("one");
        RingStrategy two = new NamedStrategy("two");
        caps.addPersistentStrategy(one);
        caps.addPersistentStrategy(two);
        assertThat(keys(caps)).isEqualTo(new TreeSet<>(VbdFeatures.IMPLEMENTED));
        caps.removePersistentStrategy(one);
        assertThat(keys(caps)).as("the other one still serves them").isEqualTo(new TreeSet<>(VbdFeatures.IMPLEMENTED));
        caps.removePersistentStrategy(two);
        assertThat(keys(caps)).isEqualTo(withoutPersistent);
    }

    @Test
    void everyImplementedKeyIsReadWhereTheOfferBecomesTheDataPathsLimits() {
        Set<Object> read = new HashSet<>();
        Map<String, String> recording = new AbstractMap<>() {
            @Override
            public String get(Object key) {
                read.add(key);
                return null;
            }

            @Override
            public Set<Entry<String, String>> entrySet() {
                return Set.of();
            }
        };
        VbdFeatures.of(recording, true);
        assertThat(read).as("a key offered but never read would be a promise no code keeps")
                .isEqualTo(Set.copyOf(VbdFeatures.IMPLEMENTED));
    }

    @Test
    void aConnectedVbdPublishesOnlyImplementedKeysAndGetsPersistentGrantsOnceTheirStrategyIsThere() throws Exception {
        Path image = dir.resolve("disk.img");
        Files.write(image, new byte[4 << 20]);
        try (SimWorld world = new SimWorld(dir, new NativeIo())) {
            BlkbackDriver blkback = world.blkback(); // grant-copy only: ring-persistent is not installed
            VbdCapabilities caps = new VbdCapabilities();
            MergedCapabilityRegistry registry = new MergedCapabilityRegistry();
            registry.addCapabilities(caps, Map.of("service.id", 1L));
            FeatureNegotiator negotiator = new FeatureNegotiator(world.xs, registry);
            NegotiationPolicy policy = new NegotiationPolicy() {
                @Override
                public Negotiation negotiate(DeviceId device) {
                    return negotiator.negotiate(device, PolicyRules.NONE);
                }

                @Override
                public Negotiation preview(DeviceId device) {
                    return negotiator.preview(device, PolicyRules.NONE);
                }
            };
            int domid = world.createDomain("caps", 8192);
            try (VbdBus bus = new VbdBus(world.xs, blkback, policy)) {
                VbdHarness vbd = new VbdHarness(world.xs, bus, domid, DEVID);
                bus.track(vbd);
                world.createVbd(domid, DEVID, Map.of("params", image.toString(), "mode", "w"), Map.of());
                try (GuestProcess guest = new GuestProcess(dir, domid, "ring-order=1,queues=1,ops=-1,fill=0,depth=4,region=256")) {
                    vbd.awaitFrontendState("4", 20_000);
                    String be = vbd.id.backendPath();
                    Set<String> published = featureKeys(world, be);
                    assertThat(published).as("published in %s", be).isNotEmpty()
                            .isSubsetOf(VbdFeatures.IMPLEMENTED);
                    assertThat(world.xs.tryRead(be + "/" + VbdFeatures.PERSISTENT)).as("no strategy serves it")
                            .hasValue("0");
                    assertThat(vbd.status()).containsEntry("strategy", "grant-copy");
                    assertThat(vbd.status().get("features")).doesNotContain("persistent");

                    // ring-persistent arrives: DS binds its strategy to the registry and to the capabilities.
                    PersistentStrategy persistent = new PersistentStrategy(world.sim, PersistentLimits.DEFAULTS);
                    world.strategies.addStrategy(persistent, Map.of(RingStrategy.NAME, PersistentStrategy.NAME,
                            "service.id", 2L));
                    caps.addPersistentStrategy(persistent);
                    assertThat(vbd.status()).as("a connected device keeps what it negotiated")
                            .containsEntry("strategy", "grant-copy");

                    // Its next negotiation (here a request, as pv:request writes it) takes persistent grants up.
                    world.xs.write(be + "/request-" + VbdFeatures.PERSISTENT, "1");
                    long end = System.currentTimeMillis() + 20_000;
                    while (!"persistent".equals(vbd.status().get("strategy"))) {
                        assertThat(System.currentTimeMillis()).as("reconnected with persistent grants; logs %s\n%s",
                                vbd.logs, guest.output()).isLessThan(end);
                        Thread.sleep(20);
                    }
                    assertThat(world.xs.tryRead(be + "/" + VbdFeatures.PERSISTENT)).hasValue("1");
                    assertThat(world.xs.tryRead(be + "/" + FeatureControlLayout.CONTROL_DIR + "/" + VbdFeatures.PERSISTENT
                            + "/" + FeatureControlLayout.STATUS)).hasValue("accepted");
                    assertThat(featureKeys(world, be)).isEqualTo(VbdFeatures.IMPLEMENTED);
                    assertThat(vbd.fatals).isEmpty();
                }
                vbd.close();
            }
        }
    }

    private static Set<String> keys(VbdCapabilities caps) {
        return caps.features().stream().map(FeatureDescriptor::key).collect(Collectors.toCollection(TreeSet::new));
    }

    /** The backend directory's keys that promise the frontend something: features and limits. */
    private static Set<String> featureKeys(SimWorld world, String be) {
        return world.xs.directory(be).stream()
                .filter(k -> !k.equals(FeatureControlLayout.CONTROL_DIR)) // the policy's answers, read by no frontend
                .filter(k -> k.startsWith("feature-") || k.startsWith("max-") || k.startsWith("multi-queue-max-"))
                .collect(Collectors.toSet());
    }

    /** A strategy standing in for any that serves persistent grants (DS selects them by RingStrategy.SERVES). */
    private record NamedStrategy(String name) implements RingStrategy {
        @Override
        public int fitness(RingRequest request) {
            return -1;
        }

        @Override
        public RingChannel open(RingRequest request) {
            throw new UnsupportedOperationException();
        }
    }
}
