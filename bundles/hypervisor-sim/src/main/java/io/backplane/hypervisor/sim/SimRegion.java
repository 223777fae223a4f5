package io.backplane.hypervisor.sim;

import io.backplane.api.hypervisor.MappedRegion;
import io.backplane.nativeio.MemoryMapping;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** dom0's mapping of pages of a sim domain's memory file: a real shared mmap. */
class SimRegion implements MappedRegion {
    private final SimDomain domain;
    private final MemoryMapping mapping;
    private final int pages;
    private boolean closed;
    private boolean revoked;

    SimRegion(SimDomain domain, MemoryMapping mapping, int pages) {
        this.domain = domain;
        this.mapping = mapping;
        this.pages = pages;
    }

    @Override
    public int domid() {
        return domain.domid();
    }

    @Override
    public int pages() {
        return pages;
    }

    @Override
    public boolean writable() {
        return mapping.writable();
    }

    @Override
    public ByteBuffer buffer() {
        return mapping.buffer();
    }

    @Override
    public long address() {
        return mapping.address();
    }

    @Override
    public void close() {
        closeAll(domain, List.of(this));
    }

    /**
     * Closes regions of one domain as one operation, what a single close costs done once: one
     * munmap per run of regions lying end to end, then one pass over the domain's grant table
     * (one lock) for what they give back. A region already closed is skipped.
     */
    static void closeAll(SimDomain domain, Collection<? extends SimRegion> regions) {
        List<MemoryMapping> mappings = new ArrayList<>(regions.size());
        List<SimRegion> returning = new ArrayList<>(regions.size());
        for (SimRegion r : regions) {
            synchronized (r) { // not while revoke() replaces its pages
                if (r.closed) {
                    continue;
                }
                r.closed = true;
                mappings.add(r.mapping);
                if (!r.revoked) { // a revoked region's pins went with its domain
                    returning.add(r);
                }
            }
        }
        try {
            MemoryMapping.closeAll(mappings);
        } finally {
            if (!returning.isEmpty()) {
                domain.lifecycle().readLock().lock();
                try {
                    if (!domain.isDying()) { // a dying domain's grant table is gone with its pins
                        domain.grants().update(() -> returning.forEach(SimRegion::released));
                    }
                    returning.forEach(domain::forget);
                } finally {
                    domain.lifecycle().readLock().unlock();
                }
            }
        }
    }

    /**
     * The domain is being destroyed: the guest's pages leave this process now (replaced by zero
     * pages so a backend thread still reading does not crash the JVM); the owner's later
     * {@link #close()} frees the address range.
     */
    synchronized void revoke() {
        if (!closed && !revoked) {
            revoked = true;
            mapping.revoke();
        }
    }

    /** Hook for what a closing mapping gives back besides its pages (grant pins). */
    void released() {
    }

    MemoryMapping mapping() {
        return mapping;
    }

    SimDomain domain() {
        return domain;
    }
}
