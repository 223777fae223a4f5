package io.backplane.backend;

import io.backplane.api.ring.RingChannel;
import io.backplane.api.ring.RingException;
import io.backplane.api.ring.RingGeometry;
import io.backplane.api.ring.RingRequest;
import io.backplane.api.ring.RingStrategy;
import io.backplane.api.ring.SegmentIo;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.function.ToIntFunction;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** How the registry picks: fitness first, then service.ranking; by name on demand. */
class RingStrategyRegistryTest {
    private final RingStrategyRegistry registry = new RingStrategyRegistry();
    private final RingRequest legacy = request(Map.of());
    private final RingRequest persistent = request(Map.of("feature-persistent", "1"));

    private static RingRequest request(Map<String, String> features) {
        return new RingRequest(3, "blkif", 112, 16, new int[]{8}, features);
    }

    /** A strategy whose channel only says who opened it. */
    private RingStrategy strategy(String name, ToIntFunction<RingRequest> fitness, int ranking, long id) {
        RingStrategy s = new RingStrategy() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public int fitness(RingRequest request) {
                return fitness.applyAsInt(request);
            }

            @Override
            public RingChannel open(RingRequest request) {
                return new RingChannel() {
                    @Override
                    public String strategy() {
                        return name;
                    }

                    @Override
                    public ByteBuffer ring() {
                        return ByteBuffer.allocateDirect(4096);
                    }

                    @Override
                    public RingGeometry geometry() {
                        return new RingGeometry(32, 4096, 0, 4, 8, 12, 64, 112, 64, 112, name);
                    }

                    @Override
                    public SegmentIo segments() {
                        throw new UnsupportedOperationException();
                    }

                    @Override
                    public Map<String, Long> counters() {
                        return Map.of();
                    }

                    @Override
                    public void close() {
                    }
                };
            }
        };
        registry.addStrategy(s, Map.of(RingStrategy.NAME, name, "service.ranking", ranking, "service.id", id));
        return s;
    }

    @Test
    void fitnessFirstThenRanking() {
        strategy("grant-copy", r -> 0, -100, 1);
        RingStrategy pg = strategy("persistent", r -> r.enabled("feature-persistent") ? 10 : -1, 0, 2);
        strategy("grant-copy-tuned", r -> 0, 5, 3);

        assertThat(registry.rank(legacy)).containsExactly("grant-copy-tuned", "grant-copy");
        assertThat(registry.rank(persistent)).containsExactly("persistent", "grant-copy-tuned", "grant-copy");
        assertThat(registry.open(persistent).strategy()).isEqualTo("persistent");
        assertThat(registry.open(legacy).strategy()).isEqualTo("grant-copy-tuned");

        registry.removeStrategy(pg);
        assertThat(registry.open(persistent).strategy()).isEqualTo("grant-copy-tuned");
    }

    @Test
    void aStrategyGoingAwayLeavesTheRankingBeforeItsRemovalListenersHearOfIt() {
        strategy("grant-copy", r -> 0, -100, 1);
        RingStrategy pg = strategy("persistent", r -> r.enabled("feature-persistent") ? 10 : -1, 0, 2);
        java.util.List<String> heard = new java.util.ArrayList<>();
        registry.subscribeRemovals(name -> heard.add(name + " leaves; ranked now: " + registry.rank(persistent)));
        registry.removeStrategy(pg);
        registry.removeStrategy(pg); // a second unbind of the same service is a no-op
        assertThat(heard).containsExactly("persistent leaves; ranked now: [grant-copy]");
    }

    @Test
    void openByNameForAnOperatorOverride() {
        strategy("grant-copy", r -> 0, -100, 1);
        strategy("persistent", r -> r.enabled("feature-persistent") ? 10 : -1, 0, 2);
        assertThat(registry.open(persistent, "grant-copy").strategy()).isEqualTo("grant-copy");
        assertThatThrownBy(() -> registry.open(legacy, "persistent")).isInstanceOf(RingException.class)
                .hasMessageStartingWith("ring strategy persistent cannot serve the blkif ring of domain 3");
        assertThatThrownBy(() -> registry.open(legacy, "zero-copy")).isInstanceOf(RingException.class)
                .hasMessage("no ring strategy named 'zero-copy' (registered: persistent, grant-copy)");
    }

    @Test
    void noneFitsIsARingExceptionNamingThem() {
        assertThatThrownBy(() -> registry.open(legacy)).isInstanceOf(RingException.class)
                .hasMessage("no ring strategy can serve the blkif ring of domain 3 (none is registered)");
        strategy("persistent", r -> r.enabled("feature-persistent") ? 10 : -1, 0, 2);
        strategy("broken", r -> {
            throw new IllegalStateException("bug");
        }, 0, 3);
        assertThatThrownBy(() -> registry.open(legacy)).isInstanceOf(RingException.class)
                .hasMessage("no ring strategy can serve the blkif ring of domain 3 (registered: persistent fitness -1, broken fitness -1)");
    }
}
