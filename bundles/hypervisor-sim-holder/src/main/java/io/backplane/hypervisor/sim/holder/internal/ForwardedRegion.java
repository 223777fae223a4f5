package io.backplane.hypervisor.sim.holder.internal;

import io.backplane.api.hypervisor.GrantMapping;
import io.backplane.api.hypervisor.MappedRegion;
import io.backplane.hypervisor.sim.holder.SimHypervisorHolder.Hypervisor;

import java.nio.ByteBuffer;

/**
 * A dom0 mapping that outlives the sim that made it: the pages stay mapped in this process
 * across a hand-over (the same address and buffer), and closing it goes to the attached sim,
 * which returns its grant pins.
 */
class ForwardedRegion implements MappedRegion {
    private final SimHypervisorFacade facade;
    private final long address;
    private volatile MappedRegion delegate;
    private boolean closed;

    ForwardedRegion(SimHypervisorFacade facade, MappedRegion delegate) {
        this.facade = facade;
        this.delegate = delegate;
        this.address = delegate.address();
    }

    MappedRegion delegate() {
        return delegate;
    }

    /**
     * Points at the successor's object for the same address. A mapping the successor does not
     * hold (its domain was destroyed, the pages revoked) keeps its old object, whose close only
     * unmaps.
     */
    boolean rebind(Hypervisor h) {
        MappedRegion next = h.dom0Region(address);
        if (next != null) {
            delegate = next;
        }
        return next != null;
    }

    /** True the first time: the caller closes the delegate. */
    synchronized boolean forget() {
        if (closed) {
            return false;
        }
        closed = true;
        facade.forget(this);
        return true;
    }

    @Override
    public int domid() {
        return delegate.domid();
    }

    @Override
    public int pages() {
        return delegate.pages();
    }

    @Override
    public boolean writable() {
        return delegate.writable();
    }

    @Override
    public ByteBuffer buffer() {
        return delegate.buffer();
    }

    @Override
    public long address() {
        return address;
    }

    @Override
    public void close() {
        if (forget()) {
            facade.call(h -> {
                delegate.close();
                return null;
            });
        }
    }

    @Override
    public String toString() {
        return String.valueOf(delegate);
    }

    /** A grant mapping. */
    static final class Grants extends ForwardedRegion implements GrantMapping {
        Grants(SimHypervisorFacade facade, GrantMapping delegate) {
            super(facade, delegate);
        }

        @Override
        public int[] refs() {
            return ((GrantMapping) delegate()).refs();
        }
    }
}
