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
}
