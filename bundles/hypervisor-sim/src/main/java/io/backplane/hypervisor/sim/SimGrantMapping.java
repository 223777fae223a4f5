package io.backplane.hypervisor.sim;

import io.backplane.api.hypervisor.GrantMapping;
import io.backplane.nativeio.MemoryMapping;

/** A batch of grants mapped as one region; closing it unpins every reference (clearing GTF_reading/writing). */
final class SimGrantMapping extends SimRegion implements GrantMapping {
    private final int[] refs;

    SimGrantMapping(SimDomain domain, MemoryMapping mapping, int[] refs) {
        super(domain, mapping, refs.length);
        this.refs = refs.clone();
    }

    @Override
    public int[] refs() {
        return refs.clone();
    }

    @Override
    void released() {
        for (int ref : refs) {
            domain().grants().unpin(ref, !writable());
        }
    }

    @Override
    public String toString() {
        return "grant mapping of " + refs.length + " page(s) of domain " + domid() + (writable() ? " rw" : " ro");
    }
}
