package io.backplane.hypervisor.sim.command;

import io.backplane.hypervisor.sim.SimStatus;
import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** The {@code sim:} Gogo commands: what the simulated hypervisor holds for each domain. */
@Component(service = SimCommands.class, property = {"osgi.command.scope=sim", "osgi.command.function=domains"})
public class SimCommands {
    private final SimStatus status;

    @Activate
    public SimCommands(@Reference SimStatus status) {
        this.status = status;
    }

    @Descriptor("List the sim's domains with the grants, mappings, guest connections and ports dom0 holds on each")
    public String domains() {
        StringBuilder out = new StringBuilder();
        out.append(String.format("%-6s %-16s %-9s %8s %8s %7s %9s %6s %6s%n",
                "domid", "name", "state", "pages", "grants", "pinned", "mappings", "conns", "ports"));
        for (SimStatus.DomainStatus d : status.domainStatus()) {
            out.append(String.format("%-6d %-16s %-9s %8d %8d %7d %9d %6d %6d%n", d.domid(), d.name(), d.state(),
                    d.memoryPages(), d.grantEntries(), d.pinnedGrants(), d.dom0Mappings(), d.guestConnections(),
                    d.guestPorts()));
        }
        out.append("dom0 event channel ports in use: ").append(status.dom0PortsInUse()).append('\n');
        out.append("domains under ").append(status.domainsDirectory());
        return out.toString();
    }
}
