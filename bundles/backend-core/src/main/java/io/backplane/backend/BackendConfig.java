package io.backplane.backend;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "Backplane xenbus backend core",
        description = "The generic backend lifecycle that probes and drives every PV device of the registered drivers.")
@interface BackendConfig {

    @AttributeDefinition(name = "Backend domain", description = "Domain whose backend/ directory is served (0: dom0).")
    int backendDomid() default 0;

    @AttributeDefinition(name = "Write hotplug-status", description = "Write hotplug-status=connected after probing a "
            + "device that waits for it (vif), as Xen's hotplug scripts do. True where no scripts run (sim mode).")
    boolean writeHotplugStatus() default true;
}
