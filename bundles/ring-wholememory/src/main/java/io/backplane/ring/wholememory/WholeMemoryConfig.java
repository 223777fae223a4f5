package io.backplane.ring.wholememory;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "Backplane ring strategy: whole-memory mapping",
        description = "Maps a trusted guest's whole memory into the backend once and reaches every granted frame through "
                + "it after checking the grant entry. This gives the backend domain access to ALL of that guest's memory, "
                + "not only what it granted: list only domains whose backend you would trust with that. Off by default.")
@interface WholeMemoryConfig {

    @AttributeDefinition(name = "Trusted domains",
            description = "Exact names of the domains (xl's name) whose whole memory may be mapped. Empty: none. "
                    + "No patterns: each domain must be named.")
    String[] trustedDomains() default {};
}
