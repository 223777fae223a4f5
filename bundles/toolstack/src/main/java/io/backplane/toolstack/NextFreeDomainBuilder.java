package io.backplane.toolstack;

import io.backplane.toolstack.config.DomainConfig;

import java.util.HashSet;
import java.util.Set;
import java.util.function.IntPredicate;

/**
 * A domain builder with no hypervisor behind it: hands out the lowest free domain id from 1, as
 * Xen does, so that everything on the XenStore side (keys, permissions, transactions, backends
 * reacting) works and can be tested without the simulated hypervisor.
 */
final class NextFreeDomainBuilder implements DomainBuilder {

    /** Xen's DOMID_FIRST_RESERVED: ids from here on are special (DOMID_IO, DOMID_XEN, ...). */
    private static final int FIRST_RESERVED = 0x7FF0;

    private final Set<Integer> handedOut = new HashSet<>();

    @Override
    public synchronized Built build(DomainConfig config, IntPredicate taken) {
        for (int id = 1; id < FIRST_RESERVED; id++) {
            if (!handedOut.contains(id) && !taken.test(id)) {
                handedOut.add(id);
                return new Built(id, false);
            }
        }
        throw new ToolstackException("no free domain id left");
    }

    @Override
    public synchronized void destroy(int domid) {
        handedOut.remove(domid);
    }
}
