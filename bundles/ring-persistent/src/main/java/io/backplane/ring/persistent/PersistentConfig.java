package io.backplane.ring.persistent;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "Backplane ring strategy: persistent grants",
        description = "Limits of the persistent-grant data path, per ring (vbd and vif rings alike), as Linux blkback's module parameters. "
                + "A change applies to rings opened afterwards.")
@interface PersistentConfig {

    @AttributeDefinition(name = "Maximum persistent grants",
            description = "Grants kept mapped per ring (blkback max_persistent_grants). Segments of further grants are grant-copied.")
    int maxPersistentGrants() default 1056;

    @AttributeDefinition(name = "Unused seconds",
            description = "A persistent grant not used for this many seconds is unmapped (blkback persistent_grant_unused_seconds).")
    int persistentGrantUnusedSeconds() default 60;

    @AttributeDefinition(name = "Purge interval (ms)",
            description = "How often a ring's worker looks for grants to purge, at the end of a batch (blkback LRU_INTERVAL).")
    int purgeIntervalMillis() default 100;
}
