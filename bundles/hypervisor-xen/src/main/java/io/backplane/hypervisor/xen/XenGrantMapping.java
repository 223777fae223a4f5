package io.backplane.hypervisor.xen;

import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.hypervisor.GrantMapping;
import io.backplane.nativeio.NativeIo;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A batch of grants mapped through gntdev: {@code index} is the fake file offset the map ioctl
 * returned, {@code address} where mmap put the pages. Closing munmaps (which unmaps the grants in
 * Xen, clearing GTF_reading/GTF_writing) and then releases the index with UNMAP_GRANT_REF.
 */
final class XenGrantMapping implements GrantMapping {
    private final XenGrantTables owner;
    private final NativeIo io;
    private final int domid;
    private final int[] refs;
    private final boolean writable;
    private final long index;
    private final long address;
    private final AtomicBoolean closed = new AtomicBoolean();

    XenGrantMapping(XenGrantTables owner, NativeIo io, int domid, int[] refs, boolean writable, long index, long address) {
        this.owner = owner;
        this.io = io;
        this.domid = domid;
        this.refs = refs;
        this.writable = writable;
        this.index = index;
        this.address = address;
    }

    @Override
    public int[] refs() {
        return refs.clone();
    }

    @Override
    public int domid() {
        return domid;
    }

    @Override
    public int pages() {
        return refs.length;
    }

    @Override
    public boolean writable() {
        return writable;
    }

    @Override
    public ByteBuffer buffer() {
        return XenMappedRegion.view(io, address, Math.toIntExact(length()), writable);
    }

    @Override
    public long address() {
        return address;
    }

    @Override
    public void close() {
        if (markClosed()) {
            try {
                io.munmap(address, length());
            } finally {
                releaseIndex();
            }
        }
    }

    /** True the first time: the caller then unmaps the pages and calls {@link #releaseIndex()}. */
    boolean markClosed() {
        return closed.compareAndSet(false, true);
    }

    /** UNMAP_GRANT_REF of this batch, once its pages are munmapped. */
    void releaseIndex() {
        owner.releaseIndex(index, refs.length);
    }

    XenGrantTables owner() {
        return owner;
    }

    long length() {
        return (long) refs.length * DomainConfig.PAGE_SIZE;
    }

    @Override
    public String toString() {
        return "grant mapping of " + refs.length + " page(s) of domain " + domid + (writable ? " rw" : " ro")
                + " at 0x" + Long.toHexString(address);
    }
}
