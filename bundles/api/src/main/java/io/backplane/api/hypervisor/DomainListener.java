package io.backplane.api.hypervisor;

/**
 * Whiteboard service: register one to hear what Xen signals with VIRQ_DOM_EXC (and xenstored
 * with {@code @releaseDomain}). Called on the hypervisor's notification thread; must not block.
 */
public interface DomainListener {

    /** The guest shut itself down (or crashed); the domain still exists until destroyed. */
    default void domainShutdown(DomainInfo domain) {
    }

    /**
     * The domain is gone: dom0's mappings of its pages and its channels have already been torn
     * down, so cached grant mappings and ports for it must simply be forgotten.
     */
    default void domainDestroyed(int domid) {
    }
}
