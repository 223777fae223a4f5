package io.backplane.toolstack;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "Backplane toolstack",
        description = "How xl:create starts guests and how long device removal waits for backends.")
@interface ToolstackConfig {

    @AttributeDefinition(name = "Guest command", description = "Command line that starts the guest program of a "
            + "domain the hypervisor made (sim mode), split on spaces; {java}, {domid}, {name}, {config} and "
            + "{state} are replaced; a relative jar path is relative to the runtime's working directory. "
            + "Empty: no guest process is started.")
    String guestCommand() default "{java} -jar bundles/guest/target/backplane-guest-0.1.0-SNAPSHOT-runnable.jar --state-dir {state} --domid {domid}";

    @AttributeDefinition(name = "Close timeout (s)", description = "How long detach and destroy wait for a "
            + "backend to reach Closed before removing the device anyway (libxl waits 10 s).")
    int closeTimeoutSeconds() default 10;
}
