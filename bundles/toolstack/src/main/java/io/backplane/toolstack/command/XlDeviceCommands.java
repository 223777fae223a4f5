package io.backplane.toolstack.command;

import io.backplane.toolstack.ToolstackService;
import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code xl:network-attach}, {@code xl:network-detach}, {@code xl:block-attach},
 * {@code xl:block-detach}. Gogo cannot map a dashed name to a Java method, so these go through
 * its {@code _main} entry, which receives the command name first.
 */
@Component(service = XlDeviceCommands.class, property = {"osgi.command.scope=xl",
        "osgi.command.function=network-attach", "osgi.command.function=network-detach",
        "osgi.command.function=block-attach", "osgi.command.function=block-detach"})
public class XlDeviceCommands {

    static final String USAGE = "xl:network-attach DOM 'bridge=br0,queues=2' | xl:network-detach DOM DEVID|MAC"
            + " | xl:block-attach DOM 'format=raw,vdev=xvdb,access=rw,target=/srv/b.img' | xl:block-detach DOM VDEV";

    private final ToolstackService toolstack;

    @Activate
    public XlDeviceCommands(@Reference ToolstackService toolstack) {
        this.toolstack = toolstack;
    }

    @Descriptor("attach or detach a device of a running domain: network-attach DOM VIFSPEC,"
            + " network-detach DOM DEVID|MAC, block-attach DOM DISKSPEC, block-detach DOM VDEV")
    public String _main(String... argv) {
        String cmd = argv.length > 0 ? argv[0].substring(argv[0].indexOf(':') + 1) : "";
        if (argv.length != 3) {
            throw new IllegalArgumentException("usage: " + USAGE);
        }
        String dom = argv[1];
        String arg = argv[2];
        return switch (cmd) {
            case "network-attach" -> "Attached " + toolstack.networkAttach(dom, arg);
            case "network-detach" -> "Detached " + toolstack.networkDetach(dom, arg);
            case "block-attach" -> "Attached " + toolstack.blockAttach(dom, arg);
            case "block-detach" -> "Detached " + toolstack.blockDetach(dom, arg);
            default -> throw new IllegalArgumentException("unknown command '" + cmd + "'; usage: " + USAGE);
        };
    }
}
