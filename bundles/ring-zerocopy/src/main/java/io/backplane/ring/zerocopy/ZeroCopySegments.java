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
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
    private final Map<Integer, Kept> mapped = new HashMap<>();
    /** Grants that could not be mapped at all: not asked again (a refused map costs a hypercall). */
    private final Set<Integer> unmappable = new HashSet<>();
    private final int[] copyStatus = new int[1];

    private final LongAdder maps = new LongAdder();
    private final LongAdder inPlace = new LongAdder();
    private final LongAdder copiesThroughMap = new LongAdder();
    private final LongAdder fallbacks = new LongAdder();
    private final LongAdder refusals = new LongAdder();
    private volatile int mappedCount;

    /** A kept grant and its page's buffer, made once ({@code MappedRegion.buffer()} makes a new view per call). */
    private record Kept(GrantMapping mapping, ByteBuffer page) {
        boolean writable() {
            return mapping.writable();
        }
    }

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
        Kept m = mapping(gref, toGuest);
        if (m == null) {
            return null;
        }
        inPlace.increment();
        return m.page().slice(offset, length);
    }

    @Override
    public int read(int gref, int offset, ByteBuffer dst, int dstOffset, int length) {
        int bad = SegmentBounds.check(offset, length, dst, dstOffset, true);
        if (bad != 0) {
            return bad;
        }
        Kept m = mapping(gref, false);
        if (m == null) {
            fallbacks.increment();
            return copy(GrantCopy.fromGrant(domid, gref, offset, dst, dstOffset, length));
        }
        // Plain reads: the frontend's data came before req_prod, read with acquire (ring.h's rmb).
        dst.put(dstOffset, m.page(), offset, length);
        copiesThroughMap.increment();
        return 0;
    }

    @Override
    public int write(ByteBuffer src, int srcOffset, int gref, int offset, int length) {
        int bad = SegmentBounds.check(offset, length, src, srcOffset, false);
        if (bad != 0) {
            return bad;
        }
        Kept m = mapping(gref, true);
        if (m == null) {
            fallbacks.increment();
            return copy(GrantCopy.toGrant(src, srcOffset, domid, gref, offset, length));
        }
        // Plain writes, ordered for the frontend by the release store of rsp_prod (ring.h's wmb).
        m.page().put(offset, src, srcOffset, length);
        copiesThroughMap.increment();
        return 0;
    }

    /**
     * The kept mapping of {@code gref}, mapping it now when new: writable first (the same page
     * may serve reads and writes, as a blkfront's pool does), read-only when the frontend granted
     * it read-only (a netfront TX page, or a bad RX buffer: kept so, its writes are refused
     * without another map). Null when it cannot serve this use: writing a page granted
     * read-only, a refused grant, or the cap reached.
     */
    private Kept mapping(int gref, boolean forWrite) {
        Kept k = mapped.get(gref);
        if (k == null) {
            GrantMapping m = map(gref, forWrite);
            if (m == null) {
                return null;
            }
            k = new Kept(m, m.buffer());
            mapped.put(gref, k);
            mappedCount = mapped.size();
            maps.increment();
        }
        return forWrite && !k.writable() ? null : k;
    }

    /** Maps {@code gref} as {@link #mapping} says; null when it cannot be mapped at all. */
    private GrantMapping map(int gref, boolean forWrite) {
        GrantMapping m;
        if (mapped.size() >= maxMapped || unmappable.contains(gref)) {
            return null;
        }
        try {
            m = grants.map(domid, new int[] {gref}, true);
        } catch (GrantException writableRefused) {
            try {
                m = grants.map(domid, new int[] {gref}, false);
            } catch (GrantException refused) {
                refusals.increment();
                if (unmappable.size() < maxMapped) {
                    unmappable.add(gref);
                }
                return null;
            }
            if (forWrite) {
                refusals.increment();  // the write is refused; the page is kept read-only for reads
            }
        }
        return m;
    }

    private int copy(GrantCopy op) {
        grants.copy(List.of(op), copyStatus);
        return copyStatus[0];
    }

    /** Unmaps every kept grant in one batch. */
    @Override
    public void close() {
        List<GrantMapping> all = new ArrayList<>(mapped.size());
        for (Kept k : mapped.values()) {
            all.add(k.mapping());
        }
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
