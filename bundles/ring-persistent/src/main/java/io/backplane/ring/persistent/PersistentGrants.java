package io.backplane.ring.persistent;

import io.backplane.api.hypervisor.GrantCopy;
import io.backplane.api.hypervisor.GrantException;
import io.backplane.api.hypervisor.GrantMapping;
import io.backplane.api.hypervisor.GrantTables;
import io.backplane.ring.LegacyRingChannel;
import io.backplane.ring.SegmentBounds;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * One ring's persistent grants (blkback's per-ring {@code persistent_gnts} tree): grant reference
 * to its page mapped writable, in least-recently-used order. Used by the ring's worker thread
 * only; {@link #counters()} may be read from any thread.
 *
 * <p>Purging follows blkback's {@code purge_persistent_gnt}: at the end of a batch, at most every
 * purge interval, grants unused for longer than the limit are unmapped; when the cap was reached
 * and a segment had to be copied since, the least recently used grants are unmapped as well, down
 * to 95% of the cap (blkback's LRU_PERCENT_CLEAN; at least one grant, where blkback's integer
 * arithmetic frees none below a cap of 100), so new grants can become persistent again.
 * The unmaps of one purge go in one batch.
 *
 * <p>The grants of one request that are not mapped yet are mapped together ({@link #prepare}: one
 * {@code IOCTL_GNTDEV_MAP_GRANT_REF} and one {@code mmap} on Xen instead of one each per grant,
 * as blkback maps a request's new persistent grants with one {@code gnttab_map_refs}); such a
 * region is unmapped when its last grant is purged. This is what makes the first requests after a
 * connect or a re-attach, which name hundreds of grants new to this process, cheap.
 */
final class PersistentGrants implements LegacyRingChannel.DataPath {
    /** blkback's LRU_PERCENT_CLEAN: a full cache is cleaned to 95% of the cap. */
    private static final int PERCENT_CLEAN = 5;
    private static final int PAGE = io.backplane.ring.layout.SharedRingDescriptor.XEN_PAGE_SIZE;

    private final GrantTables grants;
    private final int domid;
    private final PersistentLimits limits;
    private final LongSupplier clock;
    /** Access order: iteration starts at the least recently used grant. */
    private final LinkedHashMap<Integer, Grant> persistent = new LinkedHashMap<>(64, 0.75f, true);
    private long nextPurge;
    /** This batch's time, read at its first use (see {@link #now()}). */
    private long batchTime;
    private boolean batchTimeRead;
    private boolean overflowed;
    private final int[] copyStatus = new int[1];

    private final LongAdder hits = new LongAdder();
    private final LongAdder maps = new LongAdder();
    private final LongAdder mapCalls = new LongAdder();
    private final LongAdder purged = new LongAdder();
    private final LongAdder fallbacks = new LongAdder();
    private final LongAdder refused = new LongAdder();
    private volatile int mapped;

    /** One map call's region: unmapped when the last of its grants goes. */
    private static final class Region {
        final GrantMapping mapping;
        int kept;

        Region(GrantMapping mapping) {
            this.mapping = mapping;
            this.kept = mapping.refs().length;
        }
    }

    /** A grant kept mapped (page {@code index} of its region), with the time it was last used. */
    private static final class Grant {
        final Region region;
        final ByteBuffer page;
        long lastUsed;

        Grant(Region region, int index, long now) {
            this.region = region;
            this.page = region.mapping.buffer().slice(index * PAGE, PAGE).order(ByteOrder.LITTLE_ENDIAN);
            this.lastUsed = now;
        }

        boolean writable() {
            return region.mapping.writable();
        }

        /** Adds the region to {@code unmap} when this was its last grant kept. */
        void release(List<GrantMapping> unmap) {
            if (--region.kept == 0) {
                unmap.add(region.mapping);
            }
        }
    }

    PersistentGrants(GrantTables grants, int domid, PersistentLimits limits, LongSupplier clock) {
        this.grants = grants;
        this.domid = domid;
        this.limits = limits;
        this.clock = clock;
        this.nextPurge = clock.getAsLong() + limits.purgeInterval().toNanos();
    }

    @Override
    public int read(int gref, int offset, ByteBuffer dst, int dstOffset, int length) {
        int bad = SegmentBounds.check(offset, length, dst, dstOffset, true);
        if (bad != 0) {
            return bad;
        }
        Grant g = grant(gref, false);
        if (g == null) {
            return copy(GrantCopy.fromGrant(domid, gref, offset, dst, dstOffset, length));
        }
        // The frontend wrote the page before publishing req_prod, which the backend read with
        // acquire (ring.h's rmb after reading req_prod): plain reads see the data.
        dst.put(dstOffset, g.page, offset, length);
        return 0;
    }

    @Override
    public int write(ByteBuffer src, int srcOffset, int gref, int offset, int length) {
        int bad = SegmentBounds.check(offset, length, src, srcOffset, false);
        if (bad != 0) {
            return bad;
        }
        Grant g = grant(gref, true);
        if (g == null) {
            return copy(GrantCopy.toGrant(src, srcOffset, domid, gref, offset, length));
        }
        // Plain writes: the backend publishes rsp_prod with a release store afterwards (ring.h's
        // wmb before rsp_prod), which orders them for the frontend.
        g.page.put(offset, src, srcOffset, length);
        return 0;
    }

    /**
     * The mapped page itself, so blkback can preadv/pwritev between the image and the guest's
     * memory with no bounce copy (what blkback's bio on a persistent grant's page does). Ordering
     * as for {@link #read}/{@link #write}: the system call is a full barrier, and the response is
     * published after it with a release store.
     */
    @Override
    public ByteBuffer direct(int gref, int offset, int length, boolean toGuest) {
        if (offset < 0 || length <= 0 || offset + length > PAGE) {
            return null;
        }
        Grant g = grant(gref, toGuest);
        return g == null ? null : g.page.slice(offset, length);
    }

    /**
     * Maps, in one call, those of a request's grants that are not kept yet (as many as the cap
     * leaves room for), writable as {@link #map} maps them. When the batch is refused (a grant
     * granted read-only, a bad reference) nothing is kept and each grant is mapped on its own at
     * its first use, which gives each its own answer.
     */
    @Override
    public void prepare(int[] grefs, int count) {
        int room = limits.maxGrants() - persistent.size();
        int[] fresh = new int[Math.min(count, Math.max(room, 0))];
        int n = 0;
        for (int i = 0; i < count && n < fresh.length; i++) {
            int gref = grefs[i];
            if (!persistent.containsKey(gref) && !contains(fresh, n, gref)) {
                fresh[n++] = gref;
            }
        }
        if (n < 2) {
            return;                               // one grant: the single map at its use is the same call
        }
        GrantMapping mapping;
        try {
            mapping = grants.map(domid, Arrays.copyOf(fresh, n), true);
        } catch (GrantException refused) {
            return;
        }
        mapCalls.increment();
        Region region = new Region(mapping);
        long now = now();
        for (int i = 0; i < n; i++) {
            persistent.put(fresh[i], new Grant(region, i, now));
        }
        mapped = persistent.size();
        maps.add(n);
    }

    private static boolean contains(int[] a, int n, int v) {
        for (int i = 0; i < n; i++) {
            if (a[i] == v) {
                return true;
            }
        }
        return false;
    }

    /**
     * The persistent mapping of {@code gref}, mapping it now if it is new and the cap allows;
     * null when the segment must be grant-copied instead: cap reached, a write to a grant kept
     * read-only, or the map refused (the copy then gives the segment Xen's answer for that grant).
     */
    private Grant grant(int gref, boolean forWrite) {
        long now = now();
        Grant g = persistent.get(gref);
        if (g != null) {
            g.lastUsed = now;
            if (forWrite && !g.writable()) {
                return null;
            }
            hits.increment();
            return g;
        }
        if (persistent.size() >= limits.maxGrants()) {
            overflowed = true;
            fallbacks.increment();
            return null;
        }
        g = map(gref, forWrite, now);
        if (g != null) {
            persistent.put(gref, g);
            mapped = persistent.size();
            maps.increment();
        }
        return g;
    }

    /**
     * Maps writable, as blkback maps persistent grants for reads and writes alike; a page the
     * frontend granted read-only (an indirect page, say) is kept read-only when it is read.
     */
    private Grant map(int gref, boolean forWrite, long now) {
        try {
            mapCalls.increment();
            return new Grant(new Region(grants.map(domid, new int[] {gref}, true)), 0, now);
        } catch (GrantException writableRefused) {
            if (!forWrite) {
                try {
                    mapCalls.increment();
                    return new Grant(new Region(grants.map(domid, new int[] {gref}, false)), 0, now);
                } catch (GrantException refused) {
                    // fall through: the copy answers with Xen's code
                }
            }
            refused.increment();
            return null;
        }
    }

    private int copy(GrantCopy op) {
        grants.copy(List.of(op), copyStatus);
        return copyStatus[0];
    }

    /**
     * The time segments of this batch are stamped with, read once per batch instead of once per
     * segment: the LRU order and the purge work in tens of milliseconds and more, and where the
     * clock is a system call (a Xen PV dom0 whose TSC is unstable has no vDSO clock) a read per
     * segment cost more than copying the segment.
     */
    private long now() {
        if (!batchTimeRead) {
            batchTime = clock.getAsLong();
            batchTimeRead = true;
        }
        return batchTime;
    }

    /** End of a batch: purge when the interval has passed (the worker owns the map, so it purges). */
    @Override
    public void flush() {
        long now = clock.getAsLong();
        batchTimeRead = false;
        if (now - nextPurge >= 0) {
            purge(now);
            nextPurge = now + limits.purgeInterval().toNanos();
        }
    }

    /** blkback's purge_persistent_gnt, in LRU order. */
    private void purge(long now) {
        int max = limits.maxGrants();
        int clean = 0;
        if (overflowed && persistent.size() >= max) {
            clean = persistent.size() - max + Math.max(1, max * PERCENT_CLEAN / 100);
        }
        long unused = limits.unused().toNanos();
        List<GrantMapping> unmap = new ArrayList<>();
        int victims = 0;
        for (Iterator<Grant> it = persistent.values().iterator(); it.hasNext(); ) {
            Grant g = it.next();
            if (victims >= clean && now - g.lastUsed < unused) {
                break; // LRU order: every later grant was used more recently
            }
            g.release(unmap);
            it.remove();
            victims++;
        }
        overflowed = false;
        if (victims > 0) {
            if (!unmap.isEmpty()) {
                grants.unmap(unmap); // one batch: blkback hands them to one unmap work item
            }
            purged.add(victims);
            mapped = persistent.size();
        }
    }

    /** Unmaps every persistent grant, in one batch. */
    @Override
    public void close() {
        List<GrantMapping> all = new ArrayList<>(persistent.size());
        for (Grant g : persistent.values()) {
            g.release(all);
        }
        persistent.clear();
        mapped = 0;
        grants.unmap(all);
    }

    @Override
    public Map<String, Long> counters() {
        Map<String, Long> c = new LinkedHashMap<>();
        c.put("persistent-grants", (long) mapped);
        c.put("persistent-hits", hits.sum());
        c.put("persistent-maps", maps.sum());
        c.put("persistent-map-calls", mapCalls.sum());
        c.put("persistent-purged", purged.sum());
        c.put("persistent-fallback-copies", fallbacks.sum());
        c.put("persistent-map-refusals", refused.sum());
        return c;
    }
}
