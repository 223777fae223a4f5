package io.backplane.toolstack;

import io.backplane.toolstack.config.DomainConfig;

import java.util.function.IntPredicate;

/**
 * The hypervisor side of creating and destroying a domain (libxl's domain builder).
 * {@link HypervisorDomainBuilder} goes through {@code io.backplane.api.hypervisor.Domains}
 * (sim or xen); without a hypervisor, {@link NextFreeDomainBuilder} hands out domain ids only,
 * so the XenStore side still works for backends and tests.
 */
interface DomainBuilder {

    /**
     * A built domain.
     *
     * @param byHypervisor true when a hypervisor made it: it then exists, has written its own
     *                     {@code /local/domain/<id>} home and introduced it, and a guest
     *                     program can attach to it
     */
    record Built(int domid, boolean byHypervisor) {
    }

    /** Creates the domain; {@code taken} tells which ids the store already uses. */
    Built build(DomainConfig config, IntPredicate taken);

    /** Destroys it; a no-op for an id it does not know. */
    void destroy(int domid);

    /**
     * Whether the domain's guest still runs and can answer its frontends' part of a device
     * removal: false once it shut down, crashed or is gone. A domain with no hypervisor behind it
     * (its frontends are whoever writes its keys) counts as running.
     */
    default boolean running(int domid) {
        return true;
    }
}
