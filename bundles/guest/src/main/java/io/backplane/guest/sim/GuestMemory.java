package io.backplane.guest.sim;

import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.hypervisor.sim.abi.SimPaths;
import io.backplane.nativeio.MemoryMapping;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.BitSet;

/**
 * The guest's own memory: its {@code memory} file mapped shared, frame N at byte N * 4096, and a
 * small page allocator (the guest kernel's, in a real domain). Pages handed out are zeroed.
 */
public final class GuestMemory {
    private static final int PAGE = DomainConfig.PAGE_SIZE;

    private final MemoryMapping mapping;
    private final ByteBuffer all;
    private final long pages;
    private final BitSet used;

    GuestMemory(MemoryMapping mapping) {
        this.mapping = mapping;
        this.all = mapping.buffer();
        this.pages = mapping.length() / PAGE;
        this.used = new BitSet((int) pages);
    }

    /** Number of frames the domain has. */
    public long pages() {
        return pages;
    }

    /** A little-endian view of frame {@code frame} (4096 bytes), shared with whoever maps it. */
    public ByteBuffer page(long frame) {
        if (frame < 0 || frame >= pages) {
            throw new IllegalArgumentException("frame " + frame + " is outside this domain's " + pages + " pages");
        }
        return all.slice((int) (frame * PAGE), PAGE).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A little-endian view of {@code count} consecutive frames starting at {@code frame}. */
    public ByteBuffer pages(long frame, int count) {
        if (frame < 0 || count < 1 || frame + count > pages) {
            throw new IllegalArgumentException("frames " + frame + ".." + (frame + count - 1) + " are outside this domain's " + pages + " pages");
        }
        return all.slice((int) (frame * PAGE), count * PAGE).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Allocates one zeroed frame. */
    public long allocPage() {
        return allocPages(1);
    }

    /** Allocates {@code count} consecutive zeroed frames (a multi-page ring); returns the first. */
    public synchronized long allocPages(int count) {
        int start = 0;
        while (true) {
            start = used.nextClearBit(start);
            if (start + count > pages) {
                throw new IllegalStateException("out of guest memory: no " + count + " free consecutive pages of " + pages);
            }
            int nextUsed = used.nextSetBit(start);
            if (nextUsed < 0 || nextUsed >= start + count) {
                used.set(start, start + count);
                ByteBuffer b = pages(start, count);
                for (int i = 0; i < count * PAGE; i += 8) {
                    b.putLong(i, 0L);
                }
                return start;
            }
            start = nextUsed;
        }
    }

    /** Gives frames back; the caller has ended every grant on them first. */
    public synchronized void freePages(long frame, int count) {
        used.clear((int) frame, (int) frame + count);
    }

    void close() {
        mapping.close();
    }
}
