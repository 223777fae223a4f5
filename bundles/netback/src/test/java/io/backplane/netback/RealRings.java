package io.backplane.netback;

import io.backplane.api.hypervisor.GrantTables;
import io.backplane.api.ring.RingStrategies;
import io.backplane.api.ring.RingStrategy;
import io.backplane.backend.RingStrategyRegistry;
import io.backplane.ring.grantcopy.GrantCopyStrategy;
import java.util.Map;

/** The runtime's ring-strategy registry with the grant-copy strategy registered, as SCR wires them. */
final class RealRings {

    private RealRings() {
    }

    static RingStrategies grantCopy(GrantTables grants) {
        RingStrategyRegistry registry = new RingStrategyRegistry();
        registry.addStrategy(new GrantCopyStrategy(grants), Map.of(RingStrategy.NAME, GrantCopyStrategy.NAME,
                "service.ranking", -100, "service.id", 1L));
        return registry;
    }

    /** grant-copy, persistent and map-batched-unmap, as the runtime's feature deploys them. */
    static RingStrategies all(GrantTables grants) {
        RingStrategyRegistry registry = (RingStrategyRegistry) grantCopy(grants);
        registry.addStrategy(new io.backplane.ring.persistent.PersistentStrategy(grants,
                io.backplane.ring.persistent.PersistentLimits.DEFAULTS), Map.of(RingStrategy.NAME, "persistent", "service.id", 2L));
        registry.addStrategy(new io.backplane.ring.map.MapBatchedUnmapStrategy(grants), Map.of(RingStrategy.NAME,
                "map-batched-unmap", "service.ranking", -200, "service.id", 3L));
        return registry;
    }

    /** All of them and zero-copy, ranked first as an operator's configuration of its service.ranking makes it. */
    static RingStrategies zeroCopyFirst(GrantTables grants) {
        RingStrategyRegistry registry = (RingStrategyRegistry) all(grants);
        registry.addStrategy(new io.backplane.ring.zerocopy.ZeroCopyStrategy(grants, 4096), Map.of(RingStrategy.NAME,
                "zero-copy", "service.ranking", 10, "service.id", 4L));
        return registry;
    }
}
