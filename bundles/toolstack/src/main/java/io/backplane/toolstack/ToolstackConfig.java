package io.backplane.toolstack;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "Backplane toolstack",
        description = "How xl:create starts guests and how long device removal waits for backends.")
@interface ToolstackConfig {

    @AttributeDefinition(name = "Guest command", description = "Command line that starts a sim-mode guest, "
            + "split on spaces; {domid}, {name}, {config} and {state} are replaced. Empty: domains exist "
            + "in XenStore only. Example: java -jar bundles/guest/target/backplane-guest.jar --domid {domid} "
            + "--state {state}")
    String guestCommand() default "";

    @AttributeDefinition(name = "Close timeout (s)", description = "How long detach and destroy wait for a "
            + "backend to reach Closed before removing the device anyway (libxl waits 10 s).")
    int closeTimeoutSeconds() default 10;
}
