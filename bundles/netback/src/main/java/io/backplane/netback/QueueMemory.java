package io.backplane.netback;

import io.backplane.nativeio.NativeIo;
import io.backplane.nativeio.Posix;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A vif queue's data-path buffers (its TX and RX batches and the TX spill: over 2 MiB) over one
 * private anonymous mapping, in which the kernel maps a zero page at each page's first touch: a
 * pass faults in only the pages it fills, and a queue that re-attaches pays nothing for them.
 * {@code ByteBuffer.allocateDirect} zeroes every page up front; on a PV dom0 under emulation that
 * was a few hundred ms of each vif re-attach, on the two vCPUs a vbd's adoption needed at the
 * same moment. Without native I/O (netback built by hand, as benches do) the buffers are
 * allocateDirect's.
 */
final class QueueMemory {
    private static final int PAGE = 4096;
    private final NativeIo io;
    private final long address;
    private final long length;
    private final ByteBuffer[] parts;
    private boolean unmapped;

    private QueueMemory(NativeIo io, long address, long length, ByteBuffer[] parts) {
        this.io = io;
        this.address = address;
        this.length = length;
        this.parts = parts;
    }

    /** One buffer of each size (little-endian, each starting on a page), in order. */
    static QueueMemory map(NativeIo io, int... sizes) {
        ByteBuffer[] parts = new ByteBuffer[sizes.length];
        if (io == null) {
            for (int i = 0; i < sizes.length; i++) {
                parts[i] = ByteBuffer.allocateDirect(sizes[i]).order(ByteOrder.LITTLE_ENDIAN);
            }
            return new QueueMemory(null, 0, 0, parts);
        }
        long length = 0;
        for (int size : sizes) {
            length += roundUp(size);
        }
        long address = io.mmap(0, length, Posix.PROT_READ | Posix.PROT_WRITE, Posix.MAP_PRIVATE | Posix.MAP_ANONYMOUS, -1, 0);
        ByteBuffer region = io.buffer(address, (int) length);
        int at = 0;
        for (int i = 0; i < sizes.length; i++) {
            parts[i] = region.slice(at, sizes[i]).order(ByteOrder.LITTLE_ENDIAN);
            at += roundUp(sizes[i]);
        }
        return new QueueMemory(io, address, length, parts);
    }

    private static long roundUp(int size) {
        return (size + PAGE - 1L) / PAGE * PAGE;
    }

    ByteBuffer part(int index) {
        return parts[index];
    }

    /**
     * Gives the memory back. Only once no thread uses the buffers any more (the queue's worker
     * has ended and the reader is kept off the RX ring): a touch after this would fault.
     */
    synchronized void unmap() {
        if (io != null && !unmapped) {
            unmapped = true;
            io.munmap(address, length);
        }
    }
}
