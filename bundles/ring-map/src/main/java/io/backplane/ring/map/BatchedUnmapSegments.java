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
 * grants are read-only), writable to write one. The mapping is kept until {@link #flush()}, which
 * unmaps the whole batch at once; used by the ring's worker thread only, counters from any.
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

    BatchedUnmapSegments(GrantTables grants, int domid) {
        this.grants = grants;
        this.domid = domid;
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
            flush();
        }
        GrantMapping m = grants.map(domid, new int[] {gref}, writable);
        deferred.add(m);
        pending = deferred.size();
        maps.increment();
        return m;
    }

    /** The lazily batched unmap: every mapping of the batch in one call. */
    @Override
    public void flush() {
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
        flush();
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
