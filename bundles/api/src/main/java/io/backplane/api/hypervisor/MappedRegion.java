package io.backplane.api.hypervisor;

import java.nio.ByteBuffer;

/**
 * Pages of another domain mapped into this process: one contiguous virtual region of
 * {@link #pages()} 4 KiB pages, in the order they were asked for.
 *
 * <p>{@link #buffer()} is a direct buffer over the real mapping, shared with the other domain:
 * every cross-domain read or write needs the ordering the protocol asks for (VarHandle acquire /
 * release / fences). After {@link #close()} the pages are unmapped: touching the buffer then is
 * touching unmapped memory, so owners must stop every user first.
 */
public interface MappedRegion extends AutoCloseable {

    /** The domain whose pages these are. */
    int domid();

    /** Number of pages mapped. */
    int pages();

    /** True when mapped writable. */
    boolean writable();

    /**
     * A new little-endian direct buffer view over the whole region (position 0, limit
     * {@code pages() * 4096}); read-only when the region is.
     */
    ByteBuffer buffer();

    /** The region's virtual address in this process, for native code. */
    long address();

    /** Unmaps the pages (and for a grant mapping ends its pin); idempotent. */
    @Override
    void close();
}
