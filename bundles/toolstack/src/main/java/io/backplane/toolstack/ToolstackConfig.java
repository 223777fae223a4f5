package io.backplane.toolstack;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "Backplane toolstack",
        description = "How xl:create starts guests and how long device removal waits for backends.")
@interface ToolstackConfig {

    @AttributeDefinition(name = "Guest command", description = "Command line that starts the guest program of a "
            + "domain the hypervisor made (sim mode), split on spaces; {java}, {domid}, {name}, {config}, {state}, "
            + "{guest.jar} (the guest program the runtime ships) and {home} (the install root) are replaced; the "
            + "program runs in the install root, so relative paths resolve there, never against the directory "
            + "Backplane was started from. Empty: no guest process is started.")
    String guestCommand() default "{java} -jar {guest.jar} --state-dir {state} --domid {domid}";

    @AttributeDefinition(name = "Guest start timeout (s)", description = "How long xl:create waits for the guest "
            + "program to say it attached to its domain; one that exits before fails the create with its own "
            + "message, one still running after it is taken as started.")
    int guestStartSeconds() default 10;

    @AttributeDefinition(name = "Close timeout (s)", description = "How long detach and destroy wait for a "
            + "backend to reach Closed before removing the device anyway (libxl waits 10 s).")
    int closeTimeoutSeconds() default 10;
}
