package io.backplane.ring.map;

import io.backplane.api.hypervisor.GrantTables;
import io.backplane.api.ring.RingChannel;
import io.backplane.api.ring.RingRequest;
import io.backplane.api.ring.RingStrategy;
import io.backplane.ring.LegacyRingChannel;
import io.backplane.ring.LegacyRingMapping;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * Map per request with the unmaps lazily batched (the 2013 hackathon's answer to unmap cost):
 * each segment's grant is mapped for its copy, and the unmaps wait for the end of the batch
 * ({@code SegmentIo.flush()}), where they go in one call, as one TLB flush would on Xen. It fits
 * every ring.h ring but ranks below grant-copy ({@code service.ranking} -200 against -100, same
 * fitness 0), so it serves a ring only when the operator names it.
 */
@Component(property = {RingStrategy.NAME + "=" + MapBatchedUnmapStrategy.NAME, "service.ranking:Integer=-200"})
public class MapBatchedUnmapStrategy implements RingStrategy {

    public static final String NAME = "map-batched-unmap";

    private final GrantTables grants;

    @Activate
    public MapBatchedUnmapStrategy(@Reference GrantTables grants) {
        this.grants = grants;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int fitness(RingRequest request) {
        return LegacyRingMapping.problem(request) == null ? 0 : -1;
    }

    @Override
    public RingChannel open(RingRequest request) {
        LegacyRingMapping ring = LegacyRingMapping.map(grants, request, NAME);
        return new LegacyRingChannel(NAME, ring, new BatchedUnmapSegments(grants, request.frontendDomid()));
    }
}
