package io.backplane.hypervisor.sim;

import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.hypervisor.DomainInfo;
import io.backplane.api.hypervisor.DomainListener;
import io.backplane.api.hypervisor.Domains;
import io.backplane.api.hypervisor.EventChannel;
import io.backplane.api.hypervisor.EventChannels;
import io.backplane.api.hypervisor.EventHandler;
import io.backplane.api.hypervisor.ForeignMemory;
import io.backplane.api.hypervisor.GrantCopy;
import io.backplane.api.hypervisor.GrantMapping;
import io.backplane.api.hypervisor.GrantTables;
import io.backplane.api.hypervisor.HypervisorException;
import io.backplane.api.hypervisor.MappedRegion;
import io.backplane.api.log.OperatorLog;
import io.backplane.api.log.SourceRateLimit;
import io.backplane.api.xenstore.XenStore;
import io.backplane.hypervisor.sim.abi.SimPaths;
import io.backplane.nativeio.Errno;
import io.backplane.nativeio.NativeIo;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The {@code sim} hypervisor: domains whose guests are separate OS processes, sharing memory
 * files, Xen v1 grant tables and event channels over Unix sockets under
 * {@code <backplane.state.dir>/domains/} (docs/sim-abi.md). Registered as every hypervisor SPI
 * service with {@code backplane.hypervisor=sim}. Outside OSGi, {@link #start} builds one.
 */
@Component(service = {Domains.class, GrantTables.class, ForeignMemory.class, EventChannels.class},
        configurationPid = SimHypervisor.PID, property = "backplane.hypervisor=sim")
@Designate(ocd = SimHypervisor.Config.class)
public final class SimHypervisor implements Domains, GrantTables, ForeignMemory, EventChannels, SimStatus {
    public static final String PID = "io.backplane.hypervisor.sim";
    /** Xen's first reserved domid (DOMID_FIRST_RESERVED): domids run below it. */
    private static final int DOMID_FIRST_RESERVED = 0x7FF0;

    @ObjectClassDefinition(name = "Backplane simulated hypervisor",
            description = "Guests as OS processes sharing memory files, grant tables and event channel sockets.")
    public @interface Config {
        @AttributeDefinition(name = "Guest uid base",
                description = "When 0 or more, domain N's directory, files and sockets belong to uid base+N (and gid "
                        + "base+N), so a guest process run as that uid can touch nothing of another domain. "
                        + "-1 leaves them to the runtime's user.")
        int guestUidBase() default -1;
    }

    private final NativeIo io;
    /** Null outside OSGi when domains are introduced to no XenStore. */
    private final XenStore xenStore;

    private final List<DomainListener> listeners = new CopyOnWriteArrayList<>();
    private final Map<Integer, SimDomain> domains = new ConcurrentSkipListMap<>();
    private SimPaths paths;
    private GuestLimitedLog log;
    private DomainStoreNodes storeNodes;
    private EventChannelSwitch evtchn;
    private SimGrants grants;
    private ExecutorService notifier;
    private volatile int guestUidBase;
    private int nextDomid = 1;

    /** For DS; outside OSGi use {@link #start}. */
    @Activate
    public SimHypervisor(@Reference NativeIo io, @Reference XenStore xenStore,
                         @Reference(service = LoggerFactory.class) Logger logger, BundleContext context, Config config)
            throws IOException {
        this(io, xenStore);
        String dir = context.getProperty("backplane.state.dir");
        if (dir == null || dir.isBlank()) {
            throw new IllegalStateException("the simulated hypervisor needs the framework property backplane.state.dir");
        }
        init(Path.of(dir), config.guestUidBase(), OperatorLog.of(logger::info, logger::warn, logger::error));
    }

    private SimHypervisor(NativeIo io, XenStore xenStore) {
        this.io = io;
        this.xenStore = xenStore;
    }

    /** A new guest uid base applies to domains created from now on; running domains stay as they are. */
    @Modified
    void modified(Config config) {
        guestUidBase = config.guestUidBase();
        log.info("guest uid base for new domains: " + (guestUidBase < 0 ? "none (runtime's user)" : guestUidBase));
    }

    /**
     * A running sim outside OSGi (tests, tools). {@code xenStore} may be null: domains are then
     * not introduced to any XenStore. Stop it with {@link #close()}.
     */
    public static SimHypervisor start(Path stateDir, NativeIo io, XenStore xenStore, int guestUidBase) throws IOException {
        SimHypervisor h = new SimHypervisor(io, xenStore);
        h.init(stateDir, guestUidBase, OperatorLog.stderr("sim"));
        return h;
    }

    private void init(Path stateDir, int uidBase, OperatorLog simLog) throws IOException {
        this.paths = new SimPaths(stateDir);
        this.log = new GuestLimitedLog(simLog, new SourceRateLimit());
        this.guestUidBase = uidBase;
        this.storeNodes = xenStore == null ? null : new DomainStoreNodes(xenStore);
        this.evtchn = new EventChannelSwitch(id -> id == 0 || domains.containsKey(id));
        this.evtchn.addDomain(0);
        this.grants = new SimGrants(io, domains::get);
        this.notifier = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "sim-domain-events");
            t.setDaemon(true);
            return t;
        });
        DomainFiles.ensureDomainsDir(paths.domainsDir());
        removeStaleDomains();
        log.info("simulated hypervisor ready, domains under " + paths.domainsDir());
    }

    /** Domains do not outlive the runtime: directories left by one that did not stop cleanly go. */
    private void removeStaleDomains() throws IOException {
        List<Path> stale;
        try (java.util.stream.Stream<Path> children = java.nio.file.Files.list(paths.domainsDir())) {
            stale = children.toList();
        }
        for (Path dir : stale) {
            DomainFiles.removeTree(dir);
        }
        if (!stale.isEmpty()) {
            log.warn("removed " + stale.size() + " domain director" + (stale.size() == 1 ? "y" : "ies")
                    + " left in " + paths.domainsDir() + " by an earlier run");
        }
    }

    /** Destroys every domain (their guests lose their hypervisor) and stops. */
    @Deactivate
    public void close() {
        if (!domains.isEmpty()) {
            // Their event channels, grant tables and XenStore connections live in this component:
            // no successor can take them over, so the domains end with it.
            log.warn("simulated hypervisor stopping: destroying domains " + domains.keySet()
                    + "; their guests end with them");
        }
        for (Integer domid : List.copyOf(domains.keySet())) {
            try {
                destroy(domid);
            } catch (RuntimeException e) {
                log.warn("destroying domain " + domid + " at shutdown failed: " + e.getMessage());
            }
        }
        notifier.shutdown();
        try {
            notifier.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    public void addDomainListener(DomainListener listener) {
        listeners.add(listener);
    }

    public void removeDomainListener(DomainListener listener) {
        listeners.remove(listener);
    }

    /** Where this sim keeps its domains. */
    public SimPaths paths() {
        return paths;
    }

    // ---- Domains

    @Override
    public DomainInfo create(DomainConfig config) {
        SimDomain d;
        synchronized (this) {
            for (SimDomain other : domains.values()) {
                if (other.name().equals(config.name())) {
                    throw new HypervisorException(Errno.name(Errno.EEXIST), "a domain named " + config.name() + " exists (domain " + other.domid() + ")");
                }
            }
            int domid = allocateDomid();
            int owner = guestUidBase < 0 ? -1 : guestUidBase + domid;
            try {
                d = SimDomain.create(domid, config, paths, io, new DomainFiles(owner, owner), evtchn, log, this::shutdownSeen);
            } catch (IOException | RuntimeException e) {
                try {
                    DomainFiles.removeTree(paths.domainDir(domid));
                } catch (IOException ignored) {
                    // reported below
                }
                throw new HypervisorException(Errno.name(Errno.EIO), "creating domain " + config.name() + " failed: " + e.getMessage(), e);
            }
            domains.put(domid, d);
        }
        if (storeNodes != null) {
            try {
                storeNodes.introduce(d.domid(), d.name());
                if (guestUidBase >= 0 && java.nio.file.Files.exists(paths.xenstoreSocket(d.domid()))) {
                    int owner = guestUidBase + d.domid();
                    new DomainFiles(owner, owner).restrict(paths.xenstoreSocket(d.domid()));
                }
            } catch (IOException | RuntimeException e) {
                destroy(d.domid());
                throw new HypervisorException(Errno.name(Errno.EIO), "introducing domain " + d.domid() + " to XenStore failed: " + e.getMessage(), e);
            }
        }
        log.info("domain " + d.domid() + " (" + d.name() + ") created: " + config.memoryPages() + " pages, "
                + config.grantEntries() + " grant entries, in " + paths.domainDir(d.domid()));
        return d.info();
    }

    @Override
    public void destroy(int domid) {
        if (domid == 0) {
            throw new HypervisorException(Errno.name(Errno.EPERM), "domain 0 cannot be destroyed");
        }
        SimDomain d = domains.get(domid);
        if (d == null) {
            throw new HypervisorException(Errno.name(Errno.ESRCH), "domain " + domid + " does not exist");
        }
        synchronized (d) {
            if (!domains.containsKey(domid) || d.isDying()) {
                return; // destroyed concurrently
            }
            int mapped = d.mappedRegions();
            for (Port p : d.destroy(evtchn)) {
                if (p.sink instanceof Dom0Channel ch) {
                    ch.remoteDestroyed();
                }
            }
            if (storeNodes != null) {
                try {
                    storeNodes.release(domid);
                } catch (RuntimeException e) {
                    log.warn("releasing domain " + domid + " in XenStore failed: " + e.getMessage());
                }
            }
            d.removeFiles();
            domains.remove(domid);
            log.info("domain " + domid + " (" + d.name() + ") destroyed" + (mapped > 0 ? ", " + mapped
                    + " mapping(s) still held in dom0 were revoked" : ""));
        }
        notifier.execute(() -> listeners.forEach(l -> {
            try {
                l.domainDestroyed(domid);
            } catch (RuntimeException e) {
                log.warn("a domain listener failed on the destruction of domain " + domid + ": " + e);
            }
        }));
    }

    @Override
    public List<DomainInfo> list() {
        return domains.values().stream().map(SimDomain::info).toList();
    }

    @Override
    public Optional<DomainInfo> info(int domid) {
        return Optional.ofNullable(domains.get(domid)).map(SimDomain::info);
    }

    private void shutdownSeen(SimDomain d) {
        DomainInfo info = d.info();
        notifier.execute(() -> listeners.forEach(l -> {
            try {
                l.domainShutdown(info);
            } catch (RuntimeException e) {
                log.warn("a domain listener failed on the shutdown of domain " + info.domid() + ": " + e);
            }
        }));
    }

    private int allocateDomid() {
        for (int i = 0; i < DOMID_FIRST_RESERVED; i++) {
            int candidate = nextDomid;
            nextDomid = nextDomid + 1 >= DOMID_FIRST_RESERVED ? 1 : nextDomid + 1;
            if (!domains.containsKey(candidate)) {
                return candidate;
            }
        }
        throw new HypervisorException(Errno.name(Errno.ENOSPC), "no free domain id");
    }

    // ---- GrantTables, ForeignMemory

    @Override
    public GrantMapping map(int domid, int[] refs, boolean writable) {
        return grants.map(domid, refs, writable);
    }

    @Override
    public void unmap(Collection<? extends GrantMapping> mappings) {
        grants.unmap(mappings);
    }

    @Override
    public void copy(List<GrantCopy> ops, int[] status) {
        grants.copy(ops, status);
    }

    @Override
    public MappedRegion map(int domid, long[] frames, boolean writable) {
        return grants.mapForeign(domid, frames, writable);
    }

    @Override
    public MappedRegion mapGrantTable(int domid) {
        return grants.mapGrantTable(domid);
    }

    // ---- EventChannels

    @Override
    public EventChannel allocUnbound(int remoteDomid, EventHandler handler) {
        Dom0Channel ch = new Dom0Channel(evtchn, handler, log);
        ch.attach(evtchn.allocUnbound(0, remoteDomid, ch));
        return ch;
    }

    @Override
    public EventChannel bindInterdomain(int remoteDomid, int remotePort, EventHandler handler) {
        if (handler == null) {
            throw new IllegalArgumentException("an event channel needs a handler");
        }
        return bind(remoteDomid, remotePort, handler);
    }

    /** As {@link #bindInterdomain}; the switch's delivering thread releases the waiter instead of running a handler. */
    @Override
    public EventChannel bindInterdomainAwaited(int remoteDomid, int remotePort) {
        return bind(remoteDomid, remotePort, null);
    }

    private EventChannel bind(int remoteDomid, int remotePort, EventHandler handler) {
        Dom0Channel ch = new Dom0Channel(evtchn, handler, log);
        Port p = evtchn.bindInterdomain(0, remoteDomid, remotePort, ch);
        ch.attach(p);
        p.raise(); // Xen marks a newly bound port pending: the remote may have notified before.
        return ch;
    }

    // ---- introspection for checks and the shell (SimStatus)

    @Override
    public List<DomainStatus> domainStatus() {
        return domains.values().stream().map(d -> new DomainStatus(d.domid(), d.name(),
                d.state().name().toLowerCase(java.util.Locale.ROOT), d.memoryPages(), d.info().grantFrames() * 512,
                d.grants().pinned(), d.mappedRegions(), d.guestConnections(), evtchn.portsInUse(d.domid()))).toList();
    }

    @Override
    public String domainsDirectory() {
        return paths.domainsDir().toString();
    }

    @Override
    public int dom0PortsInUse() {
        return evtchn.portsInUse(0);
    }

    /** Grant references of {@code domid} dom0 has pinned (mapped or mid-copy); 0 for an unknown domain. */
    public int pinnedGrants(int domid) {
        SimDomain d = domains.get(domid);
        return d == null ? 0 : d.grants().pinned();
    }

    /** Open guest connections on the domain's event channel socket. */
    public int guestConnections(int domid) {
        SimDomain d = domains.get(domid);
        return d == null ? 0 : d.guestConnections();
    }
}
