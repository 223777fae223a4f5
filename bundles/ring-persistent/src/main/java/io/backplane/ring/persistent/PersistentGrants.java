package io.backplane.ring.persistent;

import io.backplane.api.hypervisor.GrantCopy;
import io.backplane.api.hypervisor.GrantException;
import io.backplane.api.hypervisor.GrantMapping;
import io.backplane.api.hypervisor.GrantTables;
import io.backplane.ring.LegacyRingChannel;
import io.backplane.ring.SegmentBounds;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
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
 * <p>With a {@link GrantRecord} ({@link #recordGrants}) the references held are kept in a file
 * that outlives the process, for a standby to map them beside this process before it goes
 * ({@link PreparedGrants}); an adopter starts with what its standby mapped.
 */
final class PersistentGrants implements LegacyRingChannel.DataPath {
    /** blkback's LRU_PERCENT_CLEAN: a full cache is cleaned to 95% of the cap. */
    private static final int PERCENT_CLEAN = 5;
    private static final int PAGE = io.backplane.ring.layout.SharedRingDescriptor.XEN_PAGE_SIZE;

    private final GrantTables grants;
    private final int domid;
    private final PersistentLimits limits;
    private final LongSupplier clock;
    /**
     * Grant reference to grant, and the grants in use order (see {@link Lru}): no object per
     * lookup, where a map keyed by Integer boxes every grant reference above 127 (256 per 1 MiB
     * block, garbage that made the collector stop the ring's worker every second or so).
     */
    private final GrantIndex persistent = new GrantIndex();
    private final Lru lru = new Lru();
    private long nextPurge;
    /** This batch's time, read at its first use (see {@link #now()}). */
    private long batchTime;
    private boolean batchTimeRead;
    private boolean overflowed;
    private final int[] copyStatus = new int[1];
    /** The request {@link #prepare} named, until its first new grant or the batch's end. */
    private int[] pendingRefs;
    private int pendingCount;
    /** The new grants mapped together (blkback's largest request: 256 segments). */
    private final int[] batchRefs = new int[256];

    private final LongAdder hits = new LongAdder();
    private final LongAdder maps = new LongAdder();
    /**
     * Time spent mapping (one gntdev map and mmap per new grant, where Linux blkback maps a
     * request's new grants in one batch): what a ring's first 1 MiB blocks wait for.
     */
    private final LongAdder mapNanos = new LongAdder();
    /** Map calls made (gntdev ioctl and mmap on Xen), a request's new grants in one. */
    private final LongAdder mapCalls = new LongAdder();
    private final LongAdder purged = new LongAdder();
    private final LongAdder fallbacks = new LongAdder();
    private final LongAdder refused = new LongAdder();
    private volatile int mapped;
    /** Where the references held are recorded (null: nowhere), and the grant in each of its slots. */
    private GrantRecord record;
    private Grant[] recorded;
    /**
     * What an adopter started with ({@link PreparedGrants}): grants its standby mapped before the
     * owner went, and at the claim, and the ring pages already mapped.
     */
    private final long preparedGrants;
    private final long claimMaps;
    private final long claimMapCalls;
    private final long claimDropped;
    private final long preparedRingPages;

    /**
     * Grants mapped together by {@link #prepare}: gntdev takes back only a whole mapping, so its
     * pages stay mapped until the last of its grants is purged.
     */
    private static final class Batch {
        final GrantMapping mapping;
        int live;

        Batch(GrantMapping mapping, int live) {
            this.mapping = mapping;
            this.live = live;
        }
    }

    /** A grant kept mapped, with the time it was last used and its place in the use order. */
    private static final class Grant {
        final int gref;
        final GrantMapping mapping;
        /** The batch whose page this is; null when mapped alone. */
        final Batch batch;
        final ByteBuffer page;
        /** The page's address in this process, for {@link #directAddress}. */
        final long address;
        /** Its slot in the {@link GrantRecord}, -1 when not recorded. */
        int slot = -1;
        long lastUsed;
        Grant older;
        Grant newer;

        Grant(int gref, GrantMapping mapping, long now) {
            this.gref = gref;
            this.mapping = mapping;
            this.batch = null;
            this.page = mapping.buffer();
            this.address = mapping.address();
            this.lastUsed = now;
        }

        /** Page {@code i} of {@code batch}. */
        Grant(int gref, Batch batch, int i, long now) {
            this.gref = gref;
            this.mapping = batch.mapping;
            this.batch = batch;
            this.page = batch.mapping.buffer().slice(i * PAGE, PAGE);
            this.address = batch.mapping.address() + (long) i * PAGE;
            this.lastUsed = now;
        }

        /** Adds what is to be unmapped now that this grant goes: its mapping, or its batch's once the last is gone. */
        void release(List<GrantMapping> unmap) {
            if (batch == null) {
                unmap.add(mapping);
            } else if (--batch.live == 0) {
                unmap.add(batch.mapping);
            }
        }

        boolean writable() {
            return mapping.writable();
        }
    }

    /** @param prepared what a standby mapped for this ring, taken over (null: nothing) */
    PersistentGrants(GrantTables grants, int domid, PersistentLimits limits, LongSupplier clock, PreparedGrants.Taken prepared) {
        this.grants = grants;
        this.domid = domid;
        this.limits = limits;
        this.clock = clock;
        this.nextPurge = clock.getAsLong() + limits.purgeInterval().toNanos();
        if (prepared == null) {
            preparedGrants = claimMaps = claimMapCalls = claimDropped = preparedRingPages = 0;
            return;
        }
        long now = clock.getAsLong();
        for (PreparedGrants.Held h : prepared.grants()) {
            Batch batch = new Batch(h.mapping, h.liveCount);
            for (int i = 0; i < h.refs.length; i++) {
                if (h.live[i]) {
                    keep(new Grant(h.refs[i], batch, i, now));
                }
            }
        }
        mapped = persistent.size();
        preparedGrants = prepared.beforeClaim();
        claimMaps = prepared.claim().mapped();
        claimMapCalls = prepared.claim().calls();
        claimDropped = prepared.claim().dropped();
        preparedRingPages = prepared.ring().mapping().pages();
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
     * As {@link #direct}, without a view object: blkback builds a 1 MiB block's I/O vector from
     * 256 of these, and a slice per segment was the data path's garbage.
     */
    @Override
    public long directAddress(int gref, int offset, int length, boolean toGuest) {
        if (offset < 0 || length <= 0 || offset + length > PAGE) {
            return 0;
        }
        Grant g = grant(gref, toGuest);
        return g == null ? 0 : g.address + offset;
    }

    /**
     * Remembers the request's grants: the first of them that is new maps every new one that fits
     * under the cap, writable, in one map (one gntdev ioctl and one mmap instead of one of each per
     * grant: 0.5-0.7 ms each in a TCG dom0, 264 for a ring's first 1 MiB block). Nothing is looked
     * up here, so a request whose grants are all mapped costs nothing more.
     */
    @Override
    public void prepare(int[] grefs, int count, boolean toGuest) {
        pendingRefs = grefs;
        pendingCount = count;
    }

    /**
     * Maps {@code gref} and the other new grants of the prepared request together; false when
     * it is not one of them, or when Xen refused any of them (a grant that is not writable, say):
     * then nothing is kept and each is mapped alone, as before.
     */
    private boolean mapPrepared(int gref, long now) {
        int[] refs = pendingRefs;
        int count = pendingCount;
        pendingRefs = null;
        if (refs == null || !contains(refs, count, gref)) {
            return false;
        }
        int room = Math.min(limits.maxGrants() - persistent.size(), batchRefs.length);
        int n = 0;
        for (int i = 0; i < count && n < room; i++) {
            int r = refs[i];
            if (persistent.get(r) == null && !contains(batchRefs, n, r)) {
                batchRefs[n++] = r;
            }
        }
        if (n < 2 || !contains(batchRefs, n, gref)) {
            return false;
        }
        long start = clock.getAsLong();
        GrantMapping region;
        mapCalls.increment();
        try {
            region = grants.map(domid, Arrays.copyOf(batchRefs, n), true);
        } catch (GrantException refused) {
            return false;
        } finally {
            mapNanos.add(clock.getAsLong() - start);
        }
        Batch batch = new Batch(region, n);
        for (int i = 0; i < n; i++) {
            keep(new Grant(batchRefs[i], batch, i, now));
        }
        mapped = persistent.size();
        maps.add(n);
        return true;
    }

    /** A grant just mapped joins the cache, most recently used, and the record when writable. */
    private void keep(Grant g) {
        persistent.put(g);
        lru.used(g);
        if (record != null) {
            record(g);
        }
    }

    /** A writable grant gets a slot in the record (none when the record is full). */
    private void record(Grant g) {
        if (g.writable()) {
            g.slot = record.add(g.gref);
            if (g.slot >= 0) {
                recorded[g.slot] = g;
            }
        }
    }

    /** A grant about to be unmapped leaves the record first: the record never names more than is held. */
    private void forget(Grant g) {
        if (g.slot < 0) {
            return;
        }
        int emptied = record.remove(g.slot);
        Grant moved = recorded[emptied];
        recorded[emptied] = null;
        if (moved != g) {
            moved.slot = g.slot;
            recorded[g.slot] = moved;
        }
        g.slot = -1;
    }

    /**
     * Records the grants held in {@code file} from now on, those held now first (an adopter's,
     * taken from its standby). Called before the worker starts, or on it after a swap.
     */
    @Override
    public void recordGrants(Path file) {
        record = GrantRecord.create(file, domid, limits.maxGrants());
        recorded = new Grant[limits.maxGrants()];
        for (Grant g = lru.oldest; g != null; g = g.newer) {
            record(g);
        }
    }

    private static boolean contains(int[] refs, int n, int gref) {
        for (int i = 0; i < n; i++) {
            if (refs[i] == gref) {
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
            lru.used(g);
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
        if (mapPrepared(gref, now)) {
            return persistent.get(gref);
        }
        long start = clock.getAsLong();
        g = map(gref, forWrite, now);
        mapNanos.add(clock.getAsLong() - start);
        if (g != null) {
            keep(g);
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
        mapCalls.increment();
        try {
            return new Grant(gref, grants.map(domid, new int[] {gref}, true), now);
        } catch (GrantException writableRefused) {
            if (!forWrite) {
                mapCalls.increment();
                try {
                    return new Grant(gref, grants.map(domid, new int[] {gref}, false), now);
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
        pendingRefs = null;
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
        List<GrantMapping> victims = new ArrayList<>();
        int removed = 0;
        for (Grant g = lru.oldest; g != null; removed++) {
            if (removed >= clean && now - g.lastUsed < unused) {
                break; // LRU order: every later grant was used more recently
            }
            Grant next = g.newer;
            forget(g);
            g.release(victims);
            persistent.remove(g.gref);
            lru.remove(g);
            g = next;
        }
        overflowed = false;
        int before = mapped;
        mapped = persistent.size();
        purged.add(before - mapped);
        if (!victims.isEmpty()) {
            grants.unmap(victims); // one batch: blkback hands them to one unmap work item
        }
    }

    /**
     * Unmaps every persistent grant, in one batch. The record is left as it is: after a hand-over
     * its successor has it already, and this runs after the release.
     */
    @Override
    public void close() {
        List<GrantMapping> all = new ArrayList<>(persistent.size());
        for (Grant g = lru.oldest; g != null; g = g.newer) {
            g.release(all);
        }
        persistent.clear();
        lru.oldest = null;
        lru.newest = null;
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
        c.put("persistent-map-micros", mapNanos.sum() / 1000);
        c.put("persistent-purged", purged.sum());
        c.put("persistent-fallback-copies", fallbacks.sum());
        c.put("persistent-map-refusals", refused.sum());
        if (preparedRingPages > 0) {
            c.put("prepared-ring-pages", preparedRingPages);
            c.put("persistent-prepared", preparedGrants);
            c.put("persistent-claim-maps", claimMaps);
            c.put("persistent-claim-map-calls", claimMapCalls);
            c.put("persistent-claim-dropped", claimDropped);
        }
        return c;
    }

    /** The grants from least to most recently used (access order, as blkback's LRU purge wants it). */
    private static final class Lru {
        Grant oldest;
        Grant newest;

        /** Moves {@code g} (in the list or new) to the most recently used end. */
        void used(Grant g) {
            if (g == newest) {
                return;
            }
            if (g.older != null || g == oldest) {
                remove(g);
            }
            g.older = newest;
            g.newer = null;
            if (newest != null) {
                newest.newer = g;
            } else {
                oldest = g;
            }
            newest = g;
        }

        void remove(Grant g) {
            if (g.older != null) {
                g.older.newer = g.newer;
            } else {
                oldest = g.newer;
            }
            if (g.newer != null) {
                g.newer.older = g.older;
            } else {
                newest = g.older;
            }
            g.older = null;
            g.newer = null;
        }
    }

    /** Grant reference to grant: open addressing with linear probing, keys unboxed. */
    private static final class GrantIndex {
        private Grant[] slots = new Grant[64];
        private int size;

        int size() {
            return size;
        }

        private int home(int gref, int mask) {
            return (gref * 0x9E3779B9) >>> 7 & mask; // spreads consecutive grant references
        }

        Grant get(int gref) {
            Grant[] t = slots;
            int mask = t.length - 1;
            for (int i = home(gref, mask); ; i = (i + 1) & mask) {
                Grant g = t[i];
                if (g == null || g.gref == gref) {
                    return g;
                }
            }
        }

        /** Adds {@code g}, whose reference is not in the index. */
        void put(Grant g) {
            if ((size + 1) * 2 > slots.length) {
                Grant[] old = slots;
                slots = new Grant[old.length * 2];
                for (Grant o : old) {
                    if (o != null) {
                        insert(o);
                    }
                }
            }
            insert(g);
            size++;
        }

        private void insert(Grant g) {
            int mask = slots.length - 1;
            int i = home(g.gref, mask);
            while (slots[i] != null) {
                i = (i + 1) & mask;
            }
            slots[i] = g;
        }

        /** Removes {@code gref}'s grant, shifting back the ones probed past it (no tombstones). */
        void remove(int gref) {
            int mask = slots.length - 1;
            int i = home(gref, mask);
            while (slots[i] != null && slots[i].gref != gref) {
                i = (i + 1) & mask;
            }
            if (slots[i] == null) {
                return;
            }
            slots[i] = null;
            size--;
            for (int j = (i + 1) & mask; slots[j] != null; j = (j + 1) & mask) {
                Grant g = slots[j];
                slots[j] = null;
                insert(g);
            }
        }

        void clear() {
            Arrays.fill(slots, null);
            size = 0;
        }
    }
}
