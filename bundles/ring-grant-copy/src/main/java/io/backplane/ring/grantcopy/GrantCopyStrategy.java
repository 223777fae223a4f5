package io.backplane.ring.grantcopy;

import io.backplane.api.hypervisor.GrantException;
import io.backplane.api.hypervisor.GrantMapping;
import io.backplane.api.hypervisor.GrantTables;
import io.backplane.api.ring.RingChannel;
import io.backplane.api.ring.RingException;
import io.backplane.api.ring.RingGeometry;
import io.backplane.api.ring.RingRequest;
import io.backplane.api.ring.RingStrategy;
import io.backplane.ring.GeometryRingLayout;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * The legacy strategy, what Linux's backends do without persistent grants: the ring pages are
 * mapped once (writable, as one region for a multi-page ring) and laid out as ring.h says; every
 * data segment is moved with a grant copy, batched per call to {@code SegmentIo.copy}. It fits
 * every ring.h ring, so some strategy always serves a device.
 */
@Component(property = {RingStrategy.NAME + "=" + GrantCopyStrategy.NAME, "service.ranking:Integer=-100"})
public class GrantCopyStrategy implements RingStrategy {

    public static final String NAME = "grant-copy";

    /** XENBUS_MAX_RING_GRANT_ORDER: Linux maps at most 2^4 pages per ring. */
    static final int MAX_RING_PAGES = 16;

    private final GrantTables grants;

    @Activate
    public GrantCopyStrategy(@Reference GrantTables grants) {
        this.grants = grants;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int fitness(RingRequest request) {
        return problem(request) == null ? 0 : -1;
    }

    @Override
    public RingChannel open(RingRequest request) {
        String problem = problem(request);
        if (problem != null) {
            throw new RingException("grant-copy cannot serve the " + request.protocol() + " ring of domain "
                    + request.frontendDomid() + ": " + problem);
        }
        int[] refs = request.ringRefs();
        RingGeometry geometry = GeometryRingLayout.legacy(refs.length, request.requestLength(), request.responseLength());
        GrantMapping ring;
        try {
            ring = grants.map(request.frontendDomid(), refs, true);
        } catch (GrantException e) {
            // All or nothing: map() released whatever it had pinned.
            throw new RingException("cannot map the " + request.protocol() + " ring of domain "
                    + request.frontendDomid() + ": " + e.getMessage(), e);
        }
        return new GrantCopyChannel(ring, geometry, new GrantCopySegments(grants, request.frontendDomid()));
    }

    /** Why the request is not a ring.h ring this strategy can map, or null. */
    private static String problem(RingRequest request) {
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
}
