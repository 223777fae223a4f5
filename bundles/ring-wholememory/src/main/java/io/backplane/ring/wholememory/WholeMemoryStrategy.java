package io.backplane.ring.wholememory;

import io.backplane.api.hypervisor.DomainInfo;
import io.backplane.api.hypervisor.Domains;
import io.backplane.api.hypervisor.ForeignMemory;
import io.backplane.api.hypervisor.GrantTables;
import io.backplane.api.hypervisor.HypervisorException;
import io.backplane.api.hypervisor.MappedRegion;
import io.backplane.api.ring.RingChannel;
import io.backplane.api.ring.RingException;
import io.backplane.api.ring.RingRequest;
import io.backplane.api.ring.RingStrategy;
import io.backplane.ring.LegacyRingChannel;
import io.backplane.ring.LegacyRingMapping;
import java.util.Arrays;
import java.util.Optional;
import java.util.Set;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;

/**
 * Whole-memory mapping (seed item J), by policy only: for a domain the operator named in
 * {@code trustedDomains}, the guest's whole memory is mapped into the backend once per ring
 * ({@link ForeignMemory}: privcmd on Xen, the memory file in the sim) with its grant table
 * read-only, and each segment's granted frame is reached through that mapping after checking the
 * grant entry as Xen would (permit access, granted to dom0, not read-only for a write, a frame of
 * the domain). No map, unmap or copy hypercall per grant; pages are also lent in place
 * ({@link io.backplane.api.ring.SegmentIo#direct}).
 *
 * <p>Security: the backend domain can then read and write all of that guest's memory, not only
 * what it granted, and a check does not pin the entry (the guest may end the grant right after):
 * only a domain whose backend is trusted that far may be named, which is why the policy names
 * domains one by one and is empty by default. Every other domain is refused: fitness -1, and
 * {@link #open} throws.
 */
@Component(configurationPid = WholeMemoryStrategy.PID, property = {RingStrategy.NAME + "=" + WholeMemoryStrategy.NAME})
@Designate(ocd = WholeMemoryConfig.class)
public class WholeMemoryStrategy implements RingStrategy {

    public static final String NAME = "whole-memory";
    public static final String PID = "io.backplane.ring.wholememory";
    /** Above every per-grant strategy: a trusted domain's rings need no feature for it. */
    static final int FITNESS = 20;

    private final GrantTables grants;
    private final ForeignMemory memory;
    private final Domains domains;
    private volatile Set<String> trusted;

    @Activate
    public WholeMemoryStrategy(@Reference GrantTables grants, @Reference ForeignMemory memory,
                               @Reference Domains domains, WholeMemoryConfig config) {
        this(grants, memory, domains, config.trustedDomains());
    }

    /** Outside OSGi (benchmarks, tests). */
    public WholeMemoryStrategy(GrantTables grants, ForeignMemory memory, Domains domains, String... trustedDomains) {
        this.grants = grants;
        this.memory = memory;
        this.domains = domains;
        this.trusted = Set.copyOf(Arrays.asList(trustedDomains));
    }

    @Modified
    void modified(WholeMemoryConfig config) {
        trusted = Set.copyOf(Arrays.asList(config.trustedDomains()));
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int fitness(RingRequest request) {
        return trustedDomain(request.frontendDomid()).isPresent() && LegacyRingMapping.problem(request) == null ? FITNESS : -1;
    }

    @Override
    public RingChannel open(RingRequest request) {
        int domid = request.frontendDomid();
        DomainInfo info = trustedDomain(domid).orElseThrow(() -> new RingException("whole-memory mapping refused for the "
                + request.protocol() + " ring of domain " + domid + ": the domain is not named in " + PID
                + " trustedDomains " + trusted.stream().sorted().toList()));
        if (info.memoryPages() * 4096 > Integer.MAX_VALUE) {
            throw new RingException("whole-memory mapping of domain " + domid + " (" + info.name() + ") refused: its "
                    + info.memoryPages() / 256 + " MiB exceed the 2 GiB one mapping can address here");
        }
        LegacyRingMapping ring = LegacyRingMapping.map(grants, request, NAME);
        MappedRegion table = null;
        MappedRegion all = null;
        try {
            table = memory.mapGrantTable(domid);
            long[] frames = new long[(int) info.memoryPages()];
            Arrays.setAll(frames, i -> i);
            all = memory.map(domid, frames, true);
            return new LegacyRingChannel(NAME, ring, new WholeMemorySegments(all, table));
        } catch (HypervisorException e) {
            if (all != null) {
                all.close();
            }
            if (table != null) {
                table.close();
            }
            ring.mapping().close();
            throw new RingException("whole-memory mapping of domain " + domid + " (" + info.name() + ") failed: "
                    + e.getMessage(), e);
        }
    }

    /** The domain when the policy names it, by its exact name. */
    private Optional<DomainInfo> trustedDomain(int domid) {
        Set<String> t = trusted;
        if (t.isEmpty()) {
            return Optional.empty();
        }
        return domains.info(domid).filter(d -> t.contains(d.name()));
    }
}
