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
}
