package io.backplane.policy;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "Backplane feature policy",
        description = "Admin limits on the features PV backends offer, per device type and per domain. "
                + "Edits apply at once: live devices are re-negotiated.")
@interface PolicyConfig {

    @AttributeDefinition(name = "Rules", description = "One rule per entry: SCOPE FEATURE CONSTRAINT... "
            + "SCOPE is a device type (vif), TYPE@DOMAIN (vbd@7, vif@web) or *@DOMAIN; FEATURE a Xen key "
            + "or alias; CONSTRAINT max=N, min=N, deny (on/off features), allow=A|B, default=V. "
            + "Examples: 'vif queues max=4', 'vbd@7 feature-persistent deny'.")
    String[] rules() default {};

    @AttributeDefinition(name = "Backend domain", description = "Domain whose backend devices are "
            + "re-negotiated when the rules change (0: dom0).")
    int backendDomid() default 0;
}
