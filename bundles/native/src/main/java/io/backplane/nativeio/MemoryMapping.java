package io.backplane.nativeio;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A region mapped with mmap(2) and unmapped with munmap(2) on {@link #close()} (exactly once).
 * Buffers handed out stay pointing at the region: touching one after close touches unmapped
 * memory, so the owner stops every user first.
 */
public final class MemoryMapping implements AutoCloseable {
    private final NativeIo io;
    private final long address;
    private final long length;
    private final boolean writable;
    private final AtomicBoolean closed = new AtomicBoolean();

    MemoryMapping(NativeIo io, long address, long length, boolean writable) {
        this.io = io;
        this.address = address;
        this.length = length;
        this.writable = writable;
    }

    public long address() {
        return address;
    }

    public long length() {
        return length;
    }

    public boolean writable() {
        return writable;
    }

    public boolean isClosed() {
        return closed.get();
    }

    /** A new little-endian direct buffer over the whole region (read-only unless writable). */
    public ByteBuffer buffer() {
        if (length > Integer.MAX_VALUE) {
            throw new IllegalStateException("mapping of " + length + " bytes is too large for one buffer");
        }
        ByteBuffer b = io.buffer(address, (int) length).order(ByteOrder.LITTLE_ENDIAN);
        return writable ? b : b.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Replaces the whole region with private zero pages (MAP_FIXED | MAP_ANONYMOUS): whatever was
     * mapped is no longer, yet a stray access through an old buffer reads zeros instead of
     * crashing the process. {@link #close()} still unmaps the region.
     */
    public synchronized void revoke() {
        if (!closed.get()) {
            io.mmap(address, length, Posix.PROT_READ | Posix.PROT_WRITE,
                    Posix.MAP_PRIVATE | Posix.MAP_ANONYMOUS | Posix.MAP_FIXED, -1, 0);
        }
    }

    /** msync(MS_SYNC): writes dirty pages back to the file. */
    public void sync() {
        io.msync(address, length, Posix.MS_SYNC);
    }

    @Override
    public synchronized void close() {
        if (closed.compareAndSet(false, true)) {
            io.munmap(address, length);
        }
    }

    /**
     * Closes several mappings of one {@link NativeIo} with one munmap per run of mappings lying
     * end to end ({@link NativeIo#munmapRuns}). Mappings already closed are skipped. Returns the
     * number of munmap calls made.
     */
    public static int closeAll(Collection<MemoryMapping> mappings) {
        List<MemoryMapping> open = new ArrayList<>(mappings.size());
        for (MemoryMapping m : mappings) {
            synchronized (m) { // not while a revoke() of it runs
                if (m.closed.compareAndSet(false, true)) {
                    open.add(m);
                }
            }
        }
        if (open.isEmpty()) {
            return 0;
        }
        long[] addresses = new long[open.size()];
        long[] lengths = new long[open.size()];
        for (int i = 0; i < addresses.length; i++) {
            addresses[i] = open.get(i).address;
            lengths[i] = open.get(i).length;
        }
        return open.get(0).io.munmapRuns(addresses, lengths);
    }

    @Override
    public String toString() {
        return "mapping of " + length + " bytes at 0x" + Long.toHexString(address) + (writable ? " rw" : " ro");
    }
}
