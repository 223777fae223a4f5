package io.backplane.api.hypervisor;

import java.util.List;
import java.util.Optional;

/**
 * Domain control, as the toolstack uses it (libxl's domain create and destroy). Registered by
 * the hypervisor implementation; dom0 (domain 0) always exists and is not listed as creatable.
 *
 * <p>Creating a domain allocates its id, its memory and grant table, and introduces it to
 * XenStore ({@code /local/domain/<domid>} with libxl's permissions, {@code @introduceDomain}).
 * The guest's own code (a separate OS process in the sim, a kernel on Xen) is started by the
 * toolstack afterwards. Destroying it unmaps every page dom0 still maps from it, closes its
 * event channels, releases it in XenStore ({@code @releaseDomain}) and frees its memory.
 * {@link DomainListener} services hear about shutdowns and destruction.
 */
public interface Domains {

    /** Creates a domain; fails with {@link HypervisorException} (EINVAL, EEXIST for a taken name, ENOMEM). */
    DomainInfo create(DomainConfig config);

    /**
     * Destroys the domain: tears down every mapping and channel dom0 holds on it, then its
     * memory. ESRCH when there is no such domain; domain 0 cannot be destroyed (EPERM).
     */
    void destroy(int domid);

    /** The domains other than dom0, in domid order. */
    List<DomainInfo> list();

    /** One domain's state; empty when it does not exist (or no longer does). */
    Optional<DomainInfo> info(int domid);
}
