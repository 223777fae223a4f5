package io.backplane.ring;

import io.backplane.api.hypervisor.GrantException;
import io.backplane.api.hypervisor.GrantMapping;
import io.backplane.api.hypervisor.GrantTables;
import io.backplane.api.ring.RingException;
import io.backplane.api.ring.RingGeometry;
import io.backplane.api.ring.RingRequest;
import io.backplane.ring.layout.SharedRingDescriptor;

/**
 * The ring pages of a {@link RingRequest} mapped once, writable, as one region laid out as ring.h
 * says, or as the negotiated {@link RingShape} says (split indexes, aligned slots, separate rings:
 * the request ring's pages then the response ring's, in {@code ringRefs} order): what every
 * strategy does before its data path differs (Linux's {@code xenbus_map_ring_valloc}).
 * Strategies close {@link #mapping()} when their channel closes.
 */
public record LegacyRingMapping(GrantMapping mapping, RingGeometry geometry) {

    /** XENBUS_MAX_RING_GRANT_ORDER: Linux maps at most 2^4 pages per ring. */
    public static final int MAX_RING_PAGES = 16;

    /** Why {@code request} is not a ring that can be mapped, or null when it is one. */
    public static String problem(RingRequest request) {
        RingShape shape = RingShape.of(request.features());
        int refs = request.ringRefs().length;
        int pages = shape.separateRings() ? refs / 2 : refs;
        if (shape.separateRings() && refs % 2 != 0) {
            return refs + " ring pages (separate rings have as many response pages as request pages)";
        }
        if (pages > MAX_RING_PAGES || Integer.bitCount(pages) != 1) {
            return pages + " ring pages (a " + shape.describe() + " ring has 2^order pages, at most " + MAX_RING_PAGES + ")";
        }
        if (request.requestLength() <= 0 || request.responseLength() <= 0
                || Math.max(request.requestLength(), request.responseLength())
                > SharedRingDescriptor.XEN_PAGE_SIZE - SharedRingDescriptor.HEADER_LENGTH) {
            return "entry lengths " + request.requestLength() + "/" + request.responseLength() + " do not fit a ring page";
        }
        try {
            layout(request);
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        return null;
    }

    /** The layout of {@code request}'s ring: its negotiated shape over its pages. */
    public static RingLayout layout(RingRequest request) {
        RingShape shape = RingShape.of(request.features());
        int refs = request.ringRefs().length;
        return shape.layout(request.protocol(), shape.separateRings() ? refs / 2 : refs,
                request.requestLength(), request.responseLength());
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
        RingGeometry geometry = GeometryRingLayout.geometry(layout(request));
        try {
            return new LegacyRingMapping(grants.map(request.frontendDomid(), refs, true), geometry);
        } catch (GrantException e) {
            throw new RingException("cannot map the " + request.protocol() + " ring of domain "
                    + request.frontendDomid() + ": " + e.getMessage(), e);
        }
    }
}
