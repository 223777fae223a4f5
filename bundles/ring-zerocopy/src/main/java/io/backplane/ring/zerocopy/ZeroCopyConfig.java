package io.backplane.ring.zerocopy;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "Backplane ring strategy: zero-copy",
        description = "Grants a frontend reuses (feature-persistent) are mapped once per ring and their pages handed to the "
                + "backend in place: netback writes TX frames to the sink from them and reads RX frames into them, blkback reads "
                + "and writes the image into them. "
                + "A change applies to rings opened afterwards, except the ranking, which applies at once.")
@interface ZeroCopyConfig {

    @AttributeDefinition(name = "Maximum mapped grants",
            description = "Grants kept mapped per ring. Segments of further grants are grant-copied, and counted as fallbacks.")
    int maxMappedGrants() default 4096;

    @AttributeDefinition(name = "Ranking",
            description = "service.ranking among strategies of equal fitness: the persistent strategy has 0, so at the default "
                    + "-10 zero-copy serves a ring that negotiated feature-persistent only when named (pv:strategy) or when "
                    + "ring-persistent is not installed; 10 makes it the first choice.")
    int service_ranking() default -10;
}
