package io.backplane.ring.zerocopy;

import io.backplane.api.backend.XenbusKeys;
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
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;

/**
 * Zero copy (seed item F): no grant copy and no bounce buffer where a page can be mapped. A ring
 * whose frontend promised to reuse its grants ({@code feature-persistent=1}) gets each grant
 * mapped the first time it is seen and kept until the ring closes, and the backend is handed the
 * guest's page itself ({@link io.backplane.api.ring.SegmentIo#direct}): netback gathers a TX frame
 * from the mapped pages into one writev to the TAP device and reads an RX frame from it straight
 * into the posted RX pages with one readv, blkback does preadv/pwritev between the image and them. A page that cannot be mapped as needed (a read-only grant where the backend must
 * write, a refused map, the cap reached) is moved by grant copy for that segment and counted.
 *
 * <p>It serves the same rings as the persistent strategy with the same fitness; which of the two
 * a ring gets is the services' ranking, set in this component's configuration (data, not code).
 */
@Component(configurationPid = ZeroCopyStrategy.PID,
        property = {RingStrategy.NAME + "=" + ZeroCopyStrategy.NAME,
                RingStrategy.SERVES + "=" + BlkifConstants.SERVES_PERSISTENT,
                RingStrategy.SERVES + "=" + NetifConstants.SERVES_PERSISTENT,
                "service.ranking:Integer=" + ZeroCopyStrategy.RANKING})
@Designate(ocd = ZeroCopyConfig.class)
public class ZeroCopyStrategy implements RingStrategy {

    public static final String NAME = "zero-copy";
    public static final String PID = "io.backplane.ring.zerocopy";
    /** The negotiated key it needs: a frontend that reuses its pages, so mapping once pays off. */
    public static final String FEATURE = XenbusKeys.FEATURE_PERSISTENT;
    /** The persistent strategy's: the two are told apart by ranking. */
    static final int FITNESS = 10;
    /** Below the persistent strategy's 0 until an operator configures otherwise ({@link ZeroCopyConfig}). */
    static final int RANKING = -10;

    private final GrantTables grants;
    private volatile int maxMappedGrants;

    @Activate
    public ZeroCopyStrategy(@Reference GrantTables grants, ZeroCopyConfig config) {
        this(grants, config.maxMappedGrants());
    }

    /** Outside OSGi (benchmarks, tests). */
    public ZeroCopyStrategy(GrantTables grants, int maxMappedGrants) {
        this.grants = grants;
        this.maxMappedGrants = maxMappedGrants;
    }

    @Modified
    void modified(ZeroCopyConfig config) {
        maxMappedGrants = config.maxMappedGrants();
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int fitness(RingRequest request) {
        return request.enabled(FEATURE) && LegacyRingMapping.problem(request) == null ? FITNESS : -1;
    }

    @Override
    public RingChannel open(RingRequest request) {
        LegacyRingMapping ring = LegacyRingMapping.map(grants, request, NAME);
        return new LegacyRingChannel(NAME, ring, new ZeroCopySegments(grants, request.frontendDomid(), maxMappedGrants));
    }
}
