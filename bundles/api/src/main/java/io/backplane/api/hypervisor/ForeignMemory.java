package io.backplane.api.hypervisor;

/**
 * Privileged mapping of another domain's frames by frame number, without grants
 * ({@code xenforeignmemory_map} over {@code /dev/xen/privcmd}). Only for what Xen lets dom0 do
 * this way (xenstored mapping a guest's store ring page, the toolstack building a domain);
 * backends use {@link GrantTables}.
 */
public interface ForeignMemory {

    /**
     * Maps {@code frames} of {@code domid} as one region. {@link HypervisorException} with ESRCH
     * for an unknown domain, EINVAL for a frame beyond its memory.
     */
    MappedRegion map(int domid, long[] frames, boolean writable);

    /**
     * The domain's grant table ({@code grant_entry_v1} array, all its frames) mapped read-only,
     * as dom0 maps it with {@code xenforeignmemory_map_resource(XENMEM_resource_grant_table)}: for
     * a backend that reaches granted frames through a mapping of the domain's whole memory and
     * checks each entry itself. {@link HypervisorException} with ESRCH for an unknown domain,
     * EOPNOTSUPP where this hypervisor SPI does not give it.
     */
    default MappedRegion mapGrantTable(int domid) {
        throw new HypervisorException("EOPNOTSUPP", "this hypervisor does not map domain " + domid + "'s grant table for dom0");
    }
}
