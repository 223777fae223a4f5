package io.backplane.toolstack;

import io.backplane.toolstack.config.DomainConfig;

import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * The hypervisor side of creating and destroying a domain (libxl's domain builder). The sim
 * and xen hypervisors implement it over {@code io.backplane.api.hypervisor}; until a hypervisor
 * is present, {@link NextFreeDomainBuilder} hands out domain ids only.
 */
interface DomainBuilder {

    /** A built domain: its id, and its XenStore ring page and event channel when it has them. */
    record Built(int domid, OptionalLong storeGfn, OptionalInt storeEventChannel) {
    }

    /** Creates the domain; {@code taken} tells which ids the store already uses. */
    Built build(DomainConfig config, java.util.function.IntPredicate taken);

    /** Destroys it; a no-op for an id it does not know. */
    void destroy(int domid);
}
