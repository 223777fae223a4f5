package io.backplane.toolstack.command;

import io.backplane.api.device.DeviceId;
import io.backplane.toolstack.ToolstackService;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import java.nio.file.Path;
import java.util.stream.Collectors;

/** {@code xl:create}, {@code xl:list}, {@code xl:destroy}. */
@Component(service = XlCommands.class, property = {"osgi.command.scope=xl",
        "osgi.command.function=create", "osgi.command.function=list", "osgi.command.function=destroy"})
public class XlCommands {

    private final ToolstackService toolstack;

    @Activate
    public XlCommands(@Reference ToolstackService toolstack) {
        this.toolstack = toolstack;
    }

    @Descriptor("create a domain from an xl config, or a libvirt domain XML (*.xml)")
    public String create(CommandSession session, @Descriptor("config file") String file) {
        // Relative to the shell's working directory (the client sends it), not the runtime's.
        var c = toolstack.create(session.currentDir().resolve(file));
        return "Created domain " + c.domid() + " with " + c.devices().stream().map(DeviceId::toString)
                .collect(Collectors.joining(", ")) + (c.guestPid() > 0 ? "; guest process " + c.guestPid() : "");
    }

    @Descriptor("list domains")
    public String list() {
        StringBuilder b = new StringBuilder(String.format("%-24s %5s %8s %5s %s%n", "Name", "ID", "Mem", "VCPUs", "Guest"));
        for (var d : toolstack.list()) {
            b.append(String.format("%-24s %5d %8d %5d %s%n", d.name(), d.domid(), d.memoryMiB(), d.vcpus(),
                    d.guestRunning() ? "running" : "-"));
        }
        return b.toString().stripTrailing();
    }

    @Descriptor("destroy a domain: close and remove its devices, stop its guest")
    public String destroy(@Descriptor("domain name or id") String dom) {
        return "Destroyed domain " + toolstack.destroy(dom);
    }
}
