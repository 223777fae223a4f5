package io.backplane.hypervisor.sim;

import io.backplane.api.hypervisor.MappedRegion;
import io.backplane.nativeio.MemoryMapping;
import java.nio.ByteBuffer;

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
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            mapping.close();
            if (revoked) {
                return;
            }
        }
        domain.lifecycle().readLock().lock();
        try {
            if (!domain.isDying()) { // a dying domain's grant table is gone with its pins
                released();
            }
            domain.forget(this);
        } finally {
            domain.lifecycle().readLock().unlock();
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

    SimDomain domain() {
        return domain;
    }
}
