package io.backplane.ring.zerocopy;

import io.backplane.api.hypervisor.GrantCopy;
import io.backplane.api.hypervisor.GrantException;
import io.backplane.api.hypervisor.GrantMapping;
import io.backplane.api.hypervisor.GrantTables;
import io.backplane.ring.LegacyRingChannel;
import io.backplane.ring.SegmentBounds;
import io.backplane.ring.layout.SharedRingDescriptor;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * One ring's mapped grants: each grant reference mapped the first time a segment uses it (writable
 * when the frontend granted it so, else read-only) and kept until the ring closes. {@link #direct}
 * hands out the page itself; {@link #read}/{@link #write} copy through it for callers that want
 * their own buffer. Used by the ring's worker thread only; {@link #counters()} from any thread.
 */
final class ZeroCopySegments implements LegacyRingChannel.DataPath {
    private static final int PAGE = SharedRingDescriptor.XEN_PAGE_SIZE;

    private final GrantTables grants;
    private final int domid;
    private final int maxMapped;
    private final Map<Integer, GrantMapping> mapped = new HashMap<>();
    /** Grants that could not be mapped at all: not asked again (a refused map costs a hypercall). */
    private final Map<Integer, Boolean> unmappable = new HashMap<>();
    private final int[] copyStatus = new int[1];

    private final LongAdder maps = new LongAdder();
    private final LongAdder inPlace = new LongAdder();
    private final LongAdder copiesThroughMap = new LongAdder();
    private final LongAdder fallbacks = new LongAdder();
    private final LongAdder refusals = new LongAdder();
    private volatile int mappedCount;

    ZeroCopySegments(GrantTables grants, int domid, int maxMapped) {
        this.grants = grants;
        this.domid = domid;
        this.maxMapped = maxMapped;
    }

    /**
     * The guest's page in place. Ordering: the frontend wrote it before publishing req_prod,
     * which the backend read with acquire (ring.h's rmb); what the backend writes into it (RX,
     * blkif READ) is published by the release store of rsp_prod (ring.h's wmb), and the system
     * call that fills it is a full barrier anyway. Null, counted as a fallback, when the page
     * cannot be had as asked: the caller then copies the segment, and the grant copy gives a
     * refused grant its GNTST code.
     */
    @Override
    public ByteBuffer direct(int gref, int offset, int length, boolean toGuest) {
        if (offset < 0 || length <= 0 || offset + length > PAGE) {
            return null;
        }
        GrantMapping m = mapping(gref, toGuest);
        if (m == null) {
            fallbacks.increment();
            return null;
        }
        inPlace.increment();
        return m.buffer().slice(offset, length);
    }

    @Override
    public int read(int gref, int offset, ByteBuffer dst, int dstOffset, int length) {
        int bad = SegmentBounds.check(offset, length, dst, dstOffset, true);
        if (bad != 0) {
            return bad;
        }
        GrantMapping m = mapping(gref, false);
        if (m == null) {
            fallbacks.increment();
            return copy(GrantCopy.fromGrant(domid, gref, offset, dst, dstOffset, length));
        }
        // Plain reads: the frontend's data came before req_prod, read with acquire (ring.h's rmb).
        dst.put(dstOffset, m.buffer(), offset, length);
        copiesThroughMap.increment();
        return 0;
    }

    @Override
    public int write(ByteBuffer src, int srcOffset, int gref, int offset, int length) {
        int bad = SegmentBounds.check(offset, length, src, srcOffset, false);
        if (bad != 0) {
            return bad;
        }
        GrantMapping m = mapping(gref, true);
        if (m == null) {
            fallbacks.increment();
            return copy(GrantCopy.toGrant(src, srcOffset, domid, gref, offset, length));
        }
        // Plain writes, ordered for the frontend by the release store of rsp_prod (ring.h's wmb).
        m.buffer().put(offset, src, srcOffset, length);
        copiesThroughMap.increment();
        return 0;
    }

    /**
     * The kept mapping of {@code gref}, mapping it now when new: writable first (the same page
     * may serve reads and writes, as a blkfront's pool does), read-only when the frontend granted
     * it read-only (a netfront TX page). Null when it cannot serve this use: writing a page
     * granted read-only, a refused grant, or the cap reached.
     */
    private GrantMapping mapping(int gref, boolean forWrite) {
        GrantMapping m = mapped.get(gref);
        if (m != null) {
            return forWrite && !m.writable() ? null : m;
        }
        if (mapped.size() >= maxMapped || unmappable.containsKey(gref)) {
            return null;
        }
        try {
            m = grants.map(domid, new int[] {gref}, true);
        } catch (GrantException writableRefused) {
            if (forWrite) {
                refusals.increment();
                return null;           // not kept as unmappable: a read may still map it read-only
            }
            try {
                m = grants.map(domid, new int[] {gref}, false);
            } catch (GrantException refused) {
                refusals.increment();
                if (unmappable.size() < maxMapped) {
                    unmappable.put(gref, Boolean.TRUE);
                }
                return null;
            }
        }
        mapped.put(gref, m);
        mappedCount = mapped.size();
        maps.increment();
        return m;
    }

    private int copy(GrantCopy op) {
        grants.copy(List.of(op), copyStatus);
        return copyStatus[0];
    }

    /** Unmaps every kept grant in one batch. */
    @Override
    public void close() {
        List<GrantMapping> all = new ArrayList<>(mapped.values());
        mapped.clear();
        unmappable.clear();
        mappedCount = 0;
        grants.unmap(all);
    }

    @Override
    public Map<String, Long> counters() {
        Map<String, Long> c = new LinkedHashMap<>();
        c.put("zero-copy-grants", (long) mappedCount);
        c.put("zero-copy-maps", maps.sum());
        c.put("zero-copy-in-place", inPlace.sum());
        c.put("zero-copy-memcpy", copiesThroughMap.sum());
        c.put("zero-copy-fallback-copies", fallbacks.sum());
        c.put("zero-copy-map-refusals", refusals.sum());
        return c;
    }
}
