package io.backplane.ring.persistent;

import io.backplane.api.backend.XenbusKeys;
import io.backplane.api.hypervisor.GrantTables;
import io.backplane.api.ring.PreparedRing;
import io.backplane.api.ring.RingChannel;
import io.backplane.api.ring.RingRequest;
import io.backplane.api.ring.RingStrategy;
import io.backplane.ring.LegacyRingChannel;
import io.backplane.ring.LegacyRingMapping;
import io.backplane.ring.layout.BlkifConstants;
import io.backplane.ring.layout.NetifConstants;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.LongSupplier;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;

/**
 * Persistent grants, as Linux blkback does them when both ends wrote {@code feature-persistent=1},
 * and as the 2012-2013 xen-devel netback patches proposed for a vif's TX and RX rings:
 * the frontend reuses a fixed pool of granted pages, so the backend maps each grant reference the
 * first time it appears and keeps it mapped; later segments on it are plain memory copies, with no
 * hypercall. Beats grant-copy on such rings; serves no ring that did not negotiate it (a frontend
 * that does not promise to reuse its grants would make every segment a new map).
 */
@Component(configurationPid = PersistentStrategy.PID,
        property = {RingStrategy.NAME + "=" + PersistentStrategy.NAME,
                RingStrategy.SERVES + "=" + BlkifConstants.SERVES_PERSISTENT,
                RingStrategy.SERVES + "=" + NetifConstants.SERVES_PERSISTENT})
@Designate(ocd = PersistentConfig.class)
public class PersistentStrategy implements RingStrategy {

    public static final String NAME = "persistent";
    public static final String PID = "io.backplane.ring.persistent";
    /** The negotiated key this strategy needs (blkif.h; the same name on a vif). */
    public static final String FEATURE = XenbusKeys.FEATURE_PERSISTENT;
    /** Above grant-copy's 0. */
    static final int FITNESS = 10;

    private final GrantTables grants;
    private final LongSupplier clock;
    private volatile PersistentLimits limits;

    @Activate
    public PersistentStrategy(@Reference GrantTables grants, PersistentConfig config) {
        this(grants, limits(config));
    }

    /** Outside OSGi (benchmarks, tests): explicit limits. */
    public PersistentStrategy(GrantTables grants, PersistentLimits limits) {
        this(grants, limits, System::nanoTime);
    }

    /** Tests: a clock in nanoseconds to age grants by. */
    PersistentStrategy(GrantTables grants, PersistentLimits limits, LongSupplier clock) {
        this.grants = grants;
        this.limits = limits;
        this.clock = clock;
    }

    @Modified
    void modified(PersistentConfig config) {
        limits = limits(config);
    }

    private static PersistentLimits limits(PersistentConfig config) {
        return new PersistentLimits(config.maxPersistentGrants(),
                Duration.ofSeconds(config.persistentGrantUnusedSeconds()),
                Duration.ofMillis(config.purgeIntervalMillis()));
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
        return new LegacyRingChannel(NAME, ring, new PersistentGrants(grants, request.frontendDomid(), limits, clock, null));
    }

    /** The ring, and the grants the owner's record names, mapped in one call (up to the cap). */
    @Override
    public PreparedRing prepare(RingRequest request, Path grantRecord) {
        return PreparedGrants.prepare(grants, request, grantRecord, limits.maxGrants(), NAME);
    }

    /** The prepared ring and grants become the channel's, its grants the first persistent ones. */
    @Override
    public RingChannel open(RingRequest request, PreparedRing prepared) {
        if (!(prepared instanceof PreparedGrants p) || !p.prepares(request)) {
            prepared.close();
            return open(request);
        }
        PreparedGrants.Taken taken = p.take();
        return new LegacyRingChannel(NAME, taken.ring(), new PersistentGrants(grants, request.frontendDomid(), limits, clock, taken));
    }
}
