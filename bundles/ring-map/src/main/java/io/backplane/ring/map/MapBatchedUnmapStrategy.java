package io.backplane.ring.map;

import io.backplane.api.hypervisor.GrantTables;
import io.backplane.api.ring.RingChannel;
import io.backplane.api.ring.RingRequest;
import io.backplane.api.ring.RingStrategy;
import io.backplane.ring.LegacyRingChannel;
import io.backplane.ring.LegacyRingMapping;
import io.backplane.ring.layout.BlkifConstants;
import io.backplane.ring.layout.NetifConstants;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * Map per request with the unmaps lazily batched (the 2013 hackathon's answer to unmap cost):
 * each segment's grant is mapped for its copy, and the unmaps wait for the end of the batch
 * ({@code SegmentIo.flush()}), where they go in one call, as one TLB flush would on Xen. It fits
 * every ring.h ring but ranks below grant-copy ({@code service.ranking} -200 against -100, same
 * fitness 0), so it serves a ring only when the operator names it, or when the frontend asked for
 * batched unmaps ({@code request-unmap-batch = "<count>,<max delay ms>"}, fitness 5): then the
 * unmaps wait until {@code count} mappings are pending or the oldest has waited the delay, and
 * go in one {@code GrantTables.unmap} call. The frontend never reuses a page before its unmap:
 * it learns it from its own grant entry, whose GTF_reading/GTF_writing the hypervisor keeps set
 * while the page is mapped (ending access fails until then), not from anything the backend says.
 */
@Component(property = {RingStrategy.NAME + "=" + MapBatchedUnmapStrategy.NAME, "service.ranking:Integer=-200",
        RingStrategy.SERVES + "=" + BlkifConstants.SERVES_UNMAP_BATCH,
        RingStrategy.SERVES + "=" + NetifConstants.SERVES_UNMAP_BATCH})
public class MapBatchedUnmapStrategy implements RingStrategy {

    public static final String NAME = "map-batched-unmap";
    /** Above grant-copy's 0 for a ring whose frontend asked for batched unmaps; below persistent's 10. */
    static final int REQUESTED_FITNESS = 5;

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
        if (LegacyRingMapping.problem(request) != null) {
            return -1;
        }
        return UnmapBatch.of(request.features()) != null ? REQUESTED_FITNESS : 0;
    }

    @Override
    public RingChannel open(RingRequest request) {
        LegacyRingMapping ring = LegacyRingMapping.map(grants, request, NAME);
        return new LegacyRingChannel(NAME, ring, new BatchedUnmapSegments(grants, request.frontendDomid(),
                java.util.Objects.requireNonNullElse(UnmapBatch.of(request.features()), UnmapBatch.EVERY_BATCH), System::nanoTime));
    }
}
