package io.backplane.hypervisor.xen;

import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.hypervisor.MappedRegion;
import io.backplane.nativeio.NativeIo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicBoolean;

/** Foreign frames mapped through privcmd; munmap releases them (privcmd drops the mappings with the VMA). */
final class XenMappedRegion implements MappedRegion {
    private final NativeIo io;
    private final int domid;
    private final int pages;
    private final boolean writable;
    private final long address;
    private final AtomicBoolean closed = new AtomicBoolean();

    XenMappedRegion(NativeIo io, int domid, int pages, boolean writable, long address) {
        this.io = io;
        this.domid = domid;
        this.pages = pages;
        this.writable = writable;
        this.address = address;
    }

    @Override
    public int domid() {
        return domid;
    }

    @Override
    public int pages() {
        return pages;
    }

    @Override
    public boolean writable() {
        return writable;
    }

    @Override
    public ByteBuffer buffer() {
        return view(io, address, pages * DomainConfig.PAGE_SIZE, writable);
    }

    /** Mapped guest memory as a little-endian buffer (Xen's structures are x86's), read-only unless mapped writable. */
    static ByteBuffer view(NativeIo io, long address, int bytes, boolean writable) {
        ByteBuffer b = io.buffer(address, bytes).order(ByteOrder.LITTLE_ENDIAN);
        return writable ? b : b.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public long address() {
        return address;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            io.munmap(address, (long) pages * DomainConfig.PAGE_SIZE);
        }
    }
}
