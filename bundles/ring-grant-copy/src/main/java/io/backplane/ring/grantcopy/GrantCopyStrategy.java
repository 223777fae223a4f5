package io.backplane.ring.grantcopy;

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
 * The legacy strategy, what Linux's backends do without persistent grants: the ring pages are
 * mapped once (writable, as one region for a multi-page ring) and laid out as ring.h says; every
 * data segment is moved with a grant copy, batched per call to {@code SegmentIo.copy}. It fits
 * every ring.h ring, so some strategy always serves a device.
 */
@Component(property = {RingStrategy.NAME + "=" + GrantCopyStrategy.NAME, "service.ranking:Integer=-100"})
public class GrantCopyStrategy implements RingStrategy {

    public static final String NAME = "grant-copy";

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
        return LegacyRingMapping.problem(request) == null ? 0 : -1;
    }

    @Override
    public RingChannel open(RingRequest request) {
        LegacyRingMapping ring = LegacyRingMapping.map(grants, request, NAME);
        return new LegacyRingChannel(NAME, ring, new GrantCopySegments(grants, request.frontendDomid()));
    }
}
