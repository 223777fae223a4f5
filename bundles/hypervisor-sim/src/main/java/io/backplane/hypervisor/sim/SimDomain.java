package io.backplane.hypervisor.sim;

import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.hypervisor.DomainInfo;
import io.backplane.api.hypervisor.DomainState;
import io.backplane.api.hypervisor.ShutdownReason;
import io.backplane.hypervisor.sim.abi.SimPaths;
import io.backplane.nativeio.MemoryMapping;
import io.backplane.nativeio.NativeIo;
import io.backplane.nativeio.Posix;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;

/**
 * One simulated domain in dom0: its memory and grant table files, the hypervisor's view of its
 * grants, dom0's mappings of its pages and its event channel socket. Grant operations hold the
 * read side of {@link #lifecycle()}; destruction holds the write side, so it waits for
 * operations in flight and later ones see the domain dying.
 */
final class SimDomain {
    private final int domid;
    private final String name;
    private final DomainConfig config;
    private final SimPaths paths;
    private final NativeIo io;
    private final GuestLimitedLog log;
    private final Consumer<SimDomain> onShutdown;
    private final ReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private final Set<SimRegion> regions = ConcurrentHashMap.newKeySet();
    private final int memoryFd;
    private final MemoryMapping grantTable;
    private final ActiveGrants grants;
    private EvtchnServer evtchnServer;
    private volatile DomainState state = DomainState.RUNNING;
    private volatile ShutdownReason shutdownReason;

    private SimDomain(int domid, DomainConfig config, SimPaths paths, NativeIo io, GuestLimitedLog log,
                      Consumer<SimDomain> onShutdown, int memoryFd, MemoryMapping grantTable) {
        this.domid = domid;
        this.name = config.name();
        this.config = config;
        this.paths = paths;
        this.io = io;
        this.log = log;
        this.onShutdown = onShutdown;
        this.memoryFd = memoryFd;
        this.grantTable = grantTable;
        this.grants = new ActiveGrants(new GrantEntries(grantTable.buffer()), config.memoryPages(), 0);
    }

    /** Creates the domain's directory, files and event channel socket. */
    static SimDomain create(int domid, DomainConfig config, SimPaths paths, NativeIo io, DomainFiles files,
                            EventChannelSwitch evtchn, GuestLimitedLog log, Consumer<SimDomain> onShutdown) throws IOException {
        files.createDir(paths.domainDir(domid));
        files.createFile(paths.memory(domid), config.memoryPages() * DomainConfig.PAGE_SIZE);
        files.createFile(paths.grantTable(domid), (long) config.grantFrames() * DomainConfig.PAGE_SIZE);
        int memFd = io.open(paths.memory(domid).toString(), Posix.O_RDWR, 0);
        int gntFd = io.open(paths.grantTable(domid).toString(), Posix.O_RDWR, 0);
        MemoryMapping gnt;
        try {
            gnt = io.mapShared(gntFd, 0, (long) config.grantFrames() * DomainConfig.PAGE_SIZE, true);
        } finally {
            io.close(gntFd);
        }
        SimDomain d = new SimDomain(domid, config, paths, io, log, onShutdown, memFd, gnt);
        evtchn.addDomain(domid);
        d.evtchnServer = new EvtchnServer(d, paths.evtchnSocket(domid), evtchn, log, files);
        return d;
    }

    /**
     * The domain as JDK values (and the native bundle's mappings, which outlive this bundle), for
     * the next sim: its config and state, the memory file's descriptor and the grant table's
     * mapping (both stay open), the pinned grants, dom0's mappings of its pages, and its event
     * channel socket with the connections {@link EvtchnServer#quiesce} stopped.
     */
    Map<String, Object> handOver(Map<GuestConnection, Integer> connections) {
        Map<String, Object> m = new HashMap<>();
        m.put(SimHandOver.DOMID, domid);
        m.put(SimHandOver.NAME, name);
        m.put(SimHandOver.PAGES, config.memoryPages());
        m.put(SimHandOver.FRAMES, config.grantFrames());
        m.put(SimHandOver.STATE, state.name());
        if (shutdownReason != null) {
            m.put(SimHandOver.REASON, shutdownReason.name());
        }
        m.put(SimHandOver.MEMORY_FD, memoryFd);
        m.put(SimHandOver.GRANT_TABLE, grantTable);
        m.put(SimHandOver.PINS, grants.handOver());
        List<Map<String, Object>> mapped = new ArrayList<>();
        for (SimRegion r : regions) {
            Map<String, Object> rm = new HashMap<>();
            rm.put(SimHandOver.MAPPING, r.mapping());
            rm.put(SimHandOver.PAGES, r.pages());
            if (r instanceof SimGrantMapping g) {
                rm.put(SimHandOver.REFS, g.refs());
            }
            mapped.add(rm);
        }
        m.put(SimHandOver.REGIONS, mapped);
        m.put(SimHandOver.SERVER, evtchnServer.handOver(connections));
        return m;
    }

    /** A domain handed over by the previous sim ({@link #handOver}); its connections go to {@code byId}, not yet served. */
    static SimDomain restore(Map<?, ?> m, SimPaths paths, NativeIo io, EventChannelSwitch evtchn, GuestLimitedLog log,
                             Consumer<SimDomain> onShutdown, Map<Integer, GuestConnection> byId) throws IOException {
        int domid = (Integer) m.get(SimHandOver.DOMID);
        DomainConfig config = new DomainConfig((String) m.get(SimHandOver.NAME), (Long) m.get(SimHandOver.PAGES),
                (Integer) m.get(SimHandOver.FRAMES));
        SimDomain d = new SimDomain(domid, config, paths, io, log, onShutdown, (Integer) m.get(SimHandOver.MEMORY_FD),
                (MemoryMapping) m.get(SimHandOver.GRANT_TABLE));
        d.state = DomainState.valueOf((String) m.get(SimHandOver.STATE));
        Object reason = m.get(SimHandOver.REASON);
        d.shutdownReason = reason == null ? null : ShutdownReason.valueOf((String) reason);
        d.grants.restore((long[]) m.get(SimHandOver.PINS));
        for (Object o : (List<?>) m.get(SimHandOver.REGIONS)) {
            Map<?, ?> rm = (Map<?, ?>) o;
            MemoryMapping mapping = (MemoryMapping) rm.get(SimHandOver.MAPPING);
            int[] refs = (int[]) rm.get(SimHandOver.REFS);
            d.regions.add(refs == null ? new SimRegion(d, mapping, (Integer) rm.get(SimHandOver.PAGES))
                    : new SimGrantMapping(d, mapping, refs));
        }
        evtchn.addDomain(domid);
        d.evtchnServer = EvtchnServer.restore(d, paths.evtchnSocket(domid), evtchn, log,
                (Map<String, Object>) m.get(SimHandOver.SERVER), byId);
        return d;
    }

    /** First half of a hand-over: see {@link EvtchnServer#quiesce}. */
    boolean quiesce() {
        return evtchnServer.quiesce();
    }

    EvtchnServer evtchnServer() {
        return evtchnServer;
    }

    /** dom0's mapping of this domain at {@code address}, or null. */
    SimRegion region(long address) {
        for (SimRegion r : regions) {
            if (r.address() == address) {
                return r;
            }
        }
        return null;
    }

    int domid() {
        return domid;
    }

    String name() {
        return name;
    }

    /** A second, read-only mapping of the grant-table file, for dom0 (ForeignMemory.mapGrantTable). */
    MemoryMapping mapGrantTableReadOnly() {
        int fd = io.open(paths.grantTable(domid).toString(), Posix.O_RDONLY, 0);
        try {
            return io.mapShared(fd, 0, (long) config.grantFrames() * DomainConfig.PAGE_SIZE, false);
        } finally {
            io.close(fd);
        }
    }

    long memoryPages() {
        return config.memoryPages();
    }

    int memoryFd() {
        return memoryFd;
    }

    ActiveGrants grants() {
        return grants;
    }

    ReadWriteLock lifecycle() {
        return lifecycle;
    }

    DomainState state() {
        return state;
    }

    /** Grant and foreign-memory operations are refused once destruction began. */
    boolean isDying() {
        return state == DomainState.DYING;
    }

    DomainInfo info() {
        return new DomainInfo(domid, name, config.memoryPages(), config.grantFrames(), state,
                state == DomainState.SHUTDOWN ? shutdownReason : null);
    }

    /** Registers a mapping so destruction can take the pages back. Lifecycle read lock held. */
    void track(SimRegion region) {
        regions.add(region);
    }

    void forget(SimRegion region) {
        regions.remove(region);
    }

    int mappedRegions() {
        return regions.size();
    }

    int guestConnections() {
        return evtchnServer.connections();
    }

    /** SCHEDOP_shutdown from the guest (or a crash noticed by the sim). */
    void shutdown(ShutdownReason reason) {
        synchronized (this) {
            if (state != DomainState.RUNNING) {
                return;
            }
            shutdownReason = reason;
            state = DomainState.SHUTDOWN;
        }
        log.info("domain " + domid + " (" + name + ") shut down: " + reason.name().toLowerCase(java.util.Locale.ROOT));
        onShutdown.accept(this);
    }

    void connectionClosed(GuestConnection c, boolean shutdownSent) {
        evtchnServer.removed(c);
        if (!shutdownSent && state == DomainState.RUNNING && evtchnServer.connections() == 0) {
            // The guest process left without SCHEDOP_shutdown: to the toolstack that is a crash.
            shutdown(ShutdownReason.CRASH);
        }
    }

    /**
     * Tears the domain down in dom0. Under the write lock (no grant operation in flight, later
     * ones refused): every page dom0 still maps is taken back, the grant table and memory closed.
     * Then its socket and guest connections go, and its ports close (dom0's channels to it are
     * freed: the returned ports, so their channels can be told). Files stay until
     * {@link #removeFiles()}, after XenStore released the domain.
     */
    List<Port> destroy(EventChannelSwitch evtchn) {
        lifecycle.writeLock().lock();
        try {
            state = DomainState.DYING;
            for (SimRegion r : regions) {
                r.revoke();
            }
            regions.clear();
            grantTable.close();
            io.close(memoryFd);
        } finally {
            lifecycle.writeLock().unlock();
        }
        try {
            evtchnServer.close();
        } catch (IOException e) {
            log.warn("domain " + domid + ": closing its event channel socket failed: " + e.getMessage());
        }
        return evtchn.removeDomain(domid);
    }

    /** Removes the domain's directory with everything in it. */
    void removeFiles() {
        try {
            DomainFiles.removeTree(paths.domainDir(domid));
        } catch (IOException e) {
            log.warn("domain " + domid + ": removing " + paths.domainDir(domid) + " failed: " + e.getMessage());
        }
    }
}
