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
import io.backplane.hypervisor.sim.holder.SimHypervisorHolder;
import io.backplane.nativeio.Errno;
import io.backplane.nativeio.NativeIo;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.osgi.framework.Bundle;
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
 * {@code <backplane.state.dir>/domains/} (docs/sim-abi.md). The holder bundle registers the
 * hypervisor SPI services ({@code backplane.hypervisor=sim}) and forwards them here; when this
 * bundle is updated, refreshed or stopped while the runtime runs, the domains are handed over to
 * the next one through the holder ({@link #deactivate}). Outside OSGi, {@link #start} builds one.
 */
@Component(service = SimStatus.class, configurationPid = SimHypervisor.PID, immediate = true)
@Designate(ocd = SimHypervisor.Config.class)
public final class SimHypervisor implements SimHypervisorHolder.Hypervisor, SimStatus {
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
    /** Null outside OSGi: nothing is handed over. */
    private final SimHypervisorHolder holder;

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
    private BundleContext context;

    /** For DS; outside OSGi use {@link #start}. */
    @Activate
    public SimHypervisor(@Reference NativeIo io, @Reference XenStore xenStore,
                         @Reference(service = LoggerFactory.class) Logger logger, @Reference SimHypervisorHolder holder,
                         BundleContext context, Config config)
            throws IOException {
        this(io, xenStore, holder);
        String dir = context.getProperty("backplane.state.dir");
        if (dir == null || dir.isBlank()) {
            throw new IllegalStateException("the simulated hypervisor needs the framework property backplane.state.dir");
        }
        this.context = context;
        init(Path.of(dir), config.guestUidBase(), OperatorLog.of(logger::info, logger::warn, logger::error), holder.takeHandOver());
        holder.attach(this);
    }

    private SimHypervisor(NativeIo io, XenStore xenStore, SimHypervisorHolder holder) {
        this.io = io;
        this.xenStore = xenStore;
        this.holder = holder;
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
        SimHypervisor h = new SimHypervisor(io, xenStore, null);
        h.init(stateDir, guestUidBase, OperatorLog.stderr("sim"), Map.of());
        return h;
    }

    /** As {@link #start}, taking over what {@link #handOver} gave (for tests outside OSGi). */
    static SimHypervisor restore(Path stateDir, NativeIo io, XenStore xenStore, int guestUidBase, Map<String, Object> handedOver)
            throws IOException {
        SimHypervisor h = new SimHypervisor(io, xenStore, null);
        h.init(stateDir, guestUidBase, OperatorLog.stderr("sim"), handedOver);
        return h;
    }

    private void init(Path stateDir, int uidBase, OperatorLog simLog, Map<String, Object> handedOver) throws IOException {
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
        if (SimHandOver.isHandOver(handedOver)) {
            restore(handedOver);
            return;
        }
        removeStaleDomains();
        log.info("simulated hypervisor ready, domains under " + paths.domainsDir());
    }

    /**
     * The bundle stops while the runtime runs (an update, a refresh, felix:stop): the domains go to
     * the next sim through the holder. First the guests' sockets stop being read (between two
     * messages), while dom0's calls still run; then the holder drains those and holds new ones,
     * and {@link #handOver} takes the state. The runtime stopping ends every domain, as before.
     */
    @Deactivate
    void deactivate() {
        if (context.getBundle(0).getState() == Bundle.STOPPING) {
            holder.detach(this, null);
            close();
            return;
        }
        long began = System.nanoTime();
        if (!quiesce()) {
            log.warn("simulated hypervisor: a guest connection did not stop within 2 s for the hand-over; the domains end");
            holder.detach(this, null);
            close();
            return;
        }
        holder.detach(this, () -> handOver(began));
        notifier.shutdown();
    }

    /** Stops every domain's event channel socket for a hand-over; false if a connection thread did not stop. */
    boolean quiesce() {
        boolean all = true;
        for (SimDomain d : domains.values()) {
            all &= d.quiesce();
        }
        return all;
    }

    /** Everything the next sim needs, after {@link #quiesce} and with no dom0 call running (see {@link SimHandOver}). */
    synchronized Map<String, Object> handOver(long began) {
        Map<GuestConnection, Integer> ids = new HashMap<>();
        List<Map<String, Object>> list = new ArrayList<>();
        for (SimDomain d : domains.values()) {
            list.add(d.handOver(ids));
        }
        Map<String, Object> h = new HashMap<>();
        h.put(SimHandOver.BEGAN, began);
        h.put(SimHandOver.NEXT_DOMID, nextDomid);
        h.put(SimHandOver.DOMAINS, list);
        h.put(SimHandOver.PORTS, evtchn.handOver(ids));
        log.info("simulated hypervisor: handing domains " + domains.keySet() + " with " + ids.size()
                + " guest connection(s) over to the next sim bundle");
        return h;
    }

    private void restore(Map<String, Object> h) throws IOException {
        nextDomid = (Integer) h.get(SimHandOver.NEXT_DOMID);
        Map<Integer, GuestConnection> byId = new HashMap<>();
        for (Object o : (List<?>) h.get(SimHandOver.DOMAINS)) {
            SimDomain d = SimDomain.restore((Map<?, ?>) o, paths, io, evtchn, log, this::shutdownSeen, byId);
            domains.put(d.domid(), d);
        }
        Map<Integer, Dom0Channel> dom0 = new HashMap<>();
        evtchn.restore((List<?>) h.get(SimHandOver.PORTS), byId, dom0, handler -> new Dom0Channel(evtchn, (EventHandler) handler, log));
        domains.values().forEach(d -> d.evtchnServer().serveRestored());
        long paused = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - (Long) h.get(SimHandOver.BEGAN));
        int mappings = domains.values().stream().mapToInt(SimDomain::mappedRegions).sum();
        log.info("simulated hypervisor: taken over from the previous sim bundle: domains " + domains.keySet() + ", "
                + byId.size() + " guest connection(s), " + dom0.size() + " dom0 port(s), " + mappings + " dom0 mapping(s), "
                + paused + " ms without service");
    }

    @Override
    public EventChannel dom0Channel(int port) {
        try {
            return evtchn.lookup(0, port).sink instanceof Dom0Channel ch ? ch : null;
        } catch (HypervisorException e) {
            return null;
        }
    }

    @Override
    public MappedRegion dom0Region(long address) {
        for (SimDomain d : domains.values()) {
            SimRegion r = d.region(address);
            if (r != null) {
                return r;
            }
        }
        return null;
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
    public void close() {
        if (!domains.isEmpty()) {
            // The runtime stops (or a hand-over could not be made): the domains end with the sim.
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
