package io.backplane.ring;

import io.backplane.api.hypervisor.GrantException;
import io.backplane.api.hypervisor.GrantMapping;
import io.backplane.api.hypervisor.GrantTables;
import io.backplane.api.ring.RingException;
import io.backplane.api.ring.RingGeometry;
import io.backplane.api.ring.RingRequest;

/**
 * The ring pages of a {@link RingRequest} mapped once, writable, as one region laid out as ring.h
 * says: what every strategy that keeps ring.h's layout does before its data path differs (Linux's
 * {@code xenbus_map_ring_valloc}). Strategies close {@link #mapping()} when their channel closes.
 */
public record LegacyRingMapping(GrantMapping mapping, RingGeometry geometry) {

    /** XENBUS_MAX_RING_GRANT_ORDER: Linux maps at most 2^4 pages per ring. */
    public static final int MAX_RING_PAGES = 16;

    /** Why {@code request} is not a ring.h ring that can be mapped, or null when it is one. */
    public static String problem(RingRequest request) {
        int pages = request.ringRefs().length;
        if (pages > MAX_RING_PAGES || Integer.bitCount(pages) != 1) {
            return pages + " ring pages (a ring.h ring has 2^order pages, at most " + MAX_RING_PAGES + ")";
        }
        if (request.requestLength() <= 0 || request.responseLength() <= 0
                || Math.max(request.requestLength(), request.responseLength()) > 4096 - 64) {
            return "entry lengths " + request.requestLength() + "/" + request.responseLength() + " do not fit a ring page";
        }
        return null;
    }

    /**
     * Maps the ring of {@code request} for {@code strategy}. {@link RingException} naming the
     * strategy, the ring and the domain when the request is no ring.h ring or a ring grant is
     * refused (then nothing stays mapped: the map is all or nothing).
     */
    public static LegacyRingMapping map(GrantTables grants, RingRequest request, String strategy) {
        String problem = problem(request);
        if (problem != null) {
            throw new RingException(strategy + " cannot serve the " + request.protocol() + " ring of domain "
                    + request.frontendDomid() + ": " + problem);
        }
        int[] refs = request.ringRefs();
        RingGeometry geometry = GeometryRingLayout.legacy(refs.length, request.requestLength(), request.responseLength());
        try {
            return new LegacyRingMapping(grants.map(request.frontendDomid(), refs, true), geometry);
        } catch (GrantException e) {
            throw new RingException("cannot map the " + request.protocol() + " ring of domain "
                    + request.frontendDomid() + ": " + e.getMessage(), e);
        }
    }
}
