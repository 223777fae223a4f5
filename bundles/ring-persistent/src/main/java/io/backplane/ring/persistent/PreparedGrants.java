package io.backplane.ring.persistent;

import io.backplane.api.hypervisor.GrantException;
import io.backplane.api.hypervisor.GrantMapping;
import io.backplane.api.hypervisor.GrantTables;
import io.backplane.api.ring.PreparedRing;
import io.backplane.api.ring.RingRequest;
import io.backplane.ring.LegacyRingMapping;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A persistent-grant ring mapped by a standby beside its live owner
 * ({@link PersistentStrategy#prepare}): the ring pages, and the grants the owner's
 * {@link GrantRecord} named, each batch of them in one map. Xen lets the same grant be mapped by
 * two processes, and while one maps it the frontend cannot give the reference to another page
 * (Linux's blkfront keeps a grant the backend still maps), so what is held stays what the owner
 * serves. {@link #refresh} brings it up to date once the owner stopped; {@link #take} hands it
 * to the adopter's {@link PersistentGrants}; {@link #close} unmaps it all.
 */
final class PreparedGrants implements PreparedRing {

    /** One map call's grants; gntdev takes back only the whole mapping, once none of them is held. */
    static final class Held {
        final GrantMapping mapping;
        final int[] refs;
        final boolean[] live;
        int liveCount;

        Held(GrantMapping mapping, int[] refs) {
            this.mapping = mapping;
            this.refs = refs;
            this.live = new boolean[refs.length];
            Arrays.fill(live, true);
            this.liveCount = refs.length;
        }
    }

    /** What the adopter takes over: the ring, the grants, and how they came to be held. */
    record Taken(LegacyRingMapping ring, List<Held> grants, int beforeClaim, Refresh claim) {
    }

    private final GrantTables grants;
    private final int domid;
    private final int cap;
    private final LegacyRingMapping ring;
    /** The ring references it was prepared for: a channel opened for another ring does not take it. */
    private final int[] ringRefs;
    private final List<Held> held = new ArrayList<>();
    /** Reference to its batch. */
    private final Map<Integer, Held> index = new HashMap<>();
    private Refresh claim;
    private boolean gone;

    private PreparedGrants(GrantTables grants, RingRequest request, int cap, LegacyRingMapping ring) {
        this.grants = grants;
        this.domid = request.frontendDomid();
        this.ringRefs = request.ringRefs();
        this.cap = cap;
        this.ring = ring;
    }

    /** True when it was prepared for {@code request}'s ring. */
    boolean prepares(RingRequest request) {
        return domid == request.frontendDomid() && Arrays.equals(ringRefs, request.ringRefs());
    }

    /**
     * Maps {@code request}'s ring and the grants {@code record} names (up to {@code cap}).
     *
     * @throws io.backplane.api.ring.RingException when the ring cannot be mapped (nothing stays mapped)
     */
    static PreparedGrants prepare(GrantTables grants, RingRequest request, Path record, int cap, String strategy) {
        PreparedGrants p = new PreparedGrants(grants, request, cap, LegacyRingMapping.map(grants, request, strategy));
        try {
            p.map(GrantRecord.read(record, p.domid));
            return p;
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
    }

    @Override
    public synchronized int ringPages() {
        return gone ? 0 : ring.mapping().pages();
    }

    @Override
    public synchronized int grants() {
        return index.size();
    }

    @Override
    public synchronized Refresh refresh(Path record) {
        if (gone) {
            throw new IllegalStateException("the prepared ring was released");
        }
        int[] refs = GrantRecord.read(record, domid);
        int found = 0;
        for (int r : refs) {
            if (index.containsKey(r)) {
                found++;
            }
        }
        List<Integer> dropped = new ArrayList<>();
        for (Integer r : index.keySet()) {
            if (Arrays.binarySearch(refs, r) < 0) {
                dropped.add(r);
            }
        }
        List<GrantMapping> unmap = new ArrayList<>();
        for (Integer r : dropped) {
            Held h = index.remove(r);
            for (int i = 0; i < h.refs.length; i++) {
                if (h.refs[i] == r) {
                    h.live[i] = false;
                }
            }
            if (--h.liveCount == 0) {
                held.remove(h);
                unmap.add(h.mapping);
            }
        }
        if (!unmap.isEmpty()) {
            grants.unmap(unmap);
        }
        int before = index.size();
        int calls = map(refs);
        claim = new Refresh(found, index.size() - before, calls, dropped.size());
        return claim;
    }

    /**
     * Maps those of {@code refs} (sorted, distinct) not held yet, up to the cap, writable, in one
     * call; a reference Xen refuses (no longer granted, or read-only) is left out and the rest
     * mapped again. Returns the map calls made.
     */
    private int map(int[] refs) {
        int[] todo = new int[refs.length];
        int n = 0;
        for (int r : refs) {
            if (n < cap - index.size() && !index.containsKey(r)) {
                todo[n++] = r;
            }
        }
        int calls = 0;
        while (n > 0) {
            int[] batch = Arrays.copyOf(todo, n);
            calls++;
            try {
                Held h = new Held(grants.map(domid, batch, true), batch);
                held.add(h);
                for (int r : batch) {
                    index.put(r, h);
                }
                return calls;
            } catch (GrantException e) {
                int at = Arrays.binarySearch(batch, e.ref());
                if (at < 0) {
                    return calls;                  // not one reference's fault: the requests map them as they come
                }
                System.arraycopy(todo, at + 1, todo, at, n - at - 1);
                n--;
            }
        }
        return calls;
    }

    /** Hands everything held to the adopter; closing does nothing after. */
    synchronized Taken take() {
        if (gone) {
            throw new IllegalStateException("the prepared ring was released");
        }
        gone = true;
        int mappedAtClaim = claim == null ? 0 : claim.mapped();
        return new Taken(ring, List.copyOf(held), index.size() - mappedAtClaim,
                claim == null ? new Refresh(index.size(), 0, 0, 0) : claim);
    }

    @Override
    public synchronized void close() {
        if (gone) {
            return;
        }
        gone = true;
        List<GrantMapping> all = new ArrayList<>();
        held.forEach(h -> all.add(h.mapping));
        held.clear();
        index.clear();
        try {
            if (!all.isEmpty()) {
                grants.unmap(all);
            }
        } finally {
            ring.mapping().close();
        }
    }
}
