package io.backplane.ring.map;

import io.backplane.api.hypervisor.GrantException;
import io.backplane.api.hypervisor.GrantMapping;
import io.backplane.api.hypervisor.GrantTables;
import io.backplane.ring.LegacyRingChannel;
import io.backplane.ring.SegmentBounds;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Segments moved through a mapping made for them: read-only to read a guest page (netfront TX
 * grants are read-only), writable to write one. The mappings are kept until a {@link #flush()}
 * finds the batch due (every flush by default; as the frontend asked with request-unmap-batch:
 * {@code count} pending, or the oldest {@code maxDelayMillis} old), which unmaps them all at once;
 * used by the ring's worker thread only, counters from any.
 */
final class BatchedUnmapSegments implements LegacyRingChannel.DataPath {
    /**
     * Unmaps are forced once this many wait, so a backend that flushes rarely cannot keep a
     * guest's pages pinned without bound (blkback's largest request has 256 segments).
     */
    static final int MAX_DEFERRED = 256;

    private final GrantTables grants;
    private final int domid;
    private final List<GrantMapping> deferred = new ArrayList<>(MAX_DEFERRED);

    private final LongAdder maps = new LongAdder();
    private final LongAdder refused = new LongAdder();
    private final LongAdder unmaps = new LongAdder();
    private final LongAdder unmapBatches = new LongAdder();
    private volatile int pending;

    private final UnmapBatch batch;
    private final java.util.function.LongSupplier clock;
    /** When the oldest pending mapping was made (nanoTime). */
    private long oldest;

    BatchedUnmapSegments(GrantTables grants, int domid, UnmapBatch batch, java.util.function.LongSupplier clock) {
        this.grants = grants;
        this.domid = domid;
        this.batch = batch;
        this.clock = clock;
    }

    @Override
    public int read(int gref, int offset, ByteBuffer dst, int dstOffset, int length) {
        int bad = SegmentBounds.check(offset, length, dst, dstOffset, true);
        if (bad != 0) {
            return bad;
        }
        GrantMapping m;
        try {
            m = map(gref, false);
        } catch (GrantException e) {
            refused.increment();
            return e.status().code();
        }
        // Plain reads: the frontend's data came before req_prod, read with acquire (ring.h's rmb).
        dst.put(dstOffset, m.buffer(), offset, length);
        return 0;
    }

    @Override
    public int write(ByteBuffer src, int srcOffset, int gref, int offset, int length) {
        int bad = SegmentBounds.check(offset, length, src, srcOffset, false);
        if (bad != 0) {
            return bad;
        }
        GrantMapping m;
        try {
            m = map(gref, true);
        } catch (GrantException e) {
            refused.increment();
            return e.status().code();
        }
        // Plain writes, ordered for the frontend by the release store of rsp_prod (ring.h's wmb).
        m.buffer().put(offset, src, srcOffset, length);
        return 0;
    }

    private GrantMapping map(int gref, boolean writable) {
        if (deferred.size() >= MAX_DEFERRED) {
            unmapAll();
        }
        GrantMapping m = grants.map(domid, new int[] {gref}, writable);
        if (deferred.isEmpty() && batch.maxDelayMillis() > 0) {
            oldest = clock.getAsLong();
        }
        deferred.add(m);
        pending = deferred.size();
        maps.increment();
        return m;
    }

    /** End of a batch (or the worker's idle tick): the pending unmaps go when the batch is due. */
    @Override
    public void flush() {
        if (deferred.size() >= batch.count() || (!deferred.isEmpty()
                && clock.getAsLong() - oldest >= batch.maxDelayMillis() * 1_000_000L)) {
            unmapAll();
        }
    }

    /** The lazily batched unmap: every pending mapping in one call. */
    private void unmapAll() {
        if (deferred.isEmpty()) {
            return;
        }
        try {
            grants.unmap(deferred);
        } finally {
            unmaps.add(deferred.size());
            unmapBatches.increment();
            deferred.clear();
            pending = 0;
        }
    }

    @Override
    public void close() {
        unmapAll();
    }

    @Override
    public Map<String, Long> counters() {
        Map<String, Long> c = new LinkedHashMap<>();
        c.put("grant-maps", maps.sum());
        c.put("grant-map-refusals", refused.sum());
        c.put("grant-unmaps", unmaps.sum());
        c.put("grant-unmap-batches", unmapBatches.sum());
        c.put("grant-unmaps-pending", (long) pending);
        return c;
    }
}
