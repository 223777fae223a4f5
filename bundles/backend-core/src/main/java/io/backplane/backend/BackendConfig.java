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

    @AttributeDefinition(name = "Swap to a fitter strategy", description = "When a ring strategy bundle is deployed "
            + "that is fitter for a connected device's rings than the one serving them, swap the device to it live "
            + "(hot swap: no reconnect, no request lost). False: only log that it is fitter (pv:strategy swaps by hand).")
    boolean autoSwap() default false;

    @AttributeDefinition(name = "Keep devices on stop", description = "When Backplane stops (SIGTERM) or a driver "
            + "bundle goes away (an update), hand every connected device over instead of closing it: requests taken "
            + "are answered, the rings unmapped, and the device left Connected with its connection recorded in "
            + "XenStore, so the next start (or the updated bundle) re-attaches to its live rings and the guest sees "
            + "only a pause. False closes the devices (the frontends see Closed). True in xen mode.")
    boolean keepDevices() default false;
}
