package io.backplane.hypervisor.sim;

import java.util.List;

/**
 * What the sim can say about its domains beyond the SPI, for the shell: a service of the sim
 * component (the SPI services are the holder bundle's, forwarding to it).
 */
public interface SimStatus {

    /** One domain as dom0 holds it. */
    record DomainStatus(int domid, String name, String state, long memoryPages, int grantEntries,
                        int pinnedGrants, int dom0Mappings, int guestConnections, int guestPorts) {
    }

    List<DomainStatus> domainStatus();

    /** dom0's event channel ports in use. */
    int dom0PortsInUse();

    /** Where the domains' files and sockets are. */
    String domainsDirectory();
}
