package io.backplane.guest.sim;

import io.backplane.api.hypervisor.ShutdownReason;
import io.backplane.hypervisor.sim.abi.SimPaths;
import io.backplane.nativeio.MemoryMapping;
import io.backplane.nativeio.NativeIo;
import io.backplane.nativeio.Posix;
import io.backplane.xs.client.SocketXenStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A guest process attached to its sim domain: its memory, its grant table and its event
 * channels, nothing of any other domain (docs/sim-abi.md). Frontends build on this.
 *
 * <pre>
 * try (SimGuest guest = SimGuest.attach(stateDir, domid, new NativeIo())) {
 *     long frame = guest.memory().allocPage();
 *     int ref = guest.grants().grantAccess(0, frame, false);
 *     EventChannel ch = guest.eventChannels().allocUnbound(0, c -> ...);
 *     ... write ref and ch.port() to XenStore, run the ring ...
 *     guest.shutdown(ShutdownReason.POWEROFF);
 * }
 * </pre>
 */
public final class SimGuest implements AutoCloseable {
    private final int domid;
    private final SimPaths paths;
    private final GuestMemory memory;
    private final GuestGrantTable grants;
    private final GuestEventChannels eventChannels;

    private SimGuest(int domid, SimPaths paths, GuestMemory memory, GuestGrantTable grants, GuestEventChannels eventChannels) {
        this.domid = domid;
        this.paths = paths;
        this.memory = memory;
        this.grants = grants;
        this.eventChannels = eventChannels;
    }

    /**
     * Attaches to domain {@code domid} of the sim whose state directory is {@code stateDir}.
     * {@code onDestroyed} runs (on the event channel thread) when the hypervisor drops the
     * domain's connection, i.e. the domain was destroyed; may be null.
     */
    public static SimGuest attach(Path stateDir, int domid, NativeIo io, Runnable onDestroyed) throws IOException {
        SimPaths paths = new SimPaths(stateDir);
        if (!Files.isDirectory(paths.domainDir(domid))) {
            throw new IOException("domain " + domid + " does not exist under " + paths.domainsDir()
                    + " (or this process may not enter it)");
        }
        MemoryMapping mem = mapWhole(io, paths.memory(domid));
        MemoryMapping gnt = null;
        try {
            gnt = mapWhole(io, paths.grantTable(domid));
            GuestEventChannels evtchn = new GuestEventChannels(domid, paths.evtchnSocket(domid), onDestroyed);
            return new SimGuest(domid, paths, new GuestMemory(mem), new GuestGrantTable(gnt), evtchn);
        } catch (IOException | RuntimeException e) {
            mem.close();
            if (gnt != null) {
                gnt.close();
            }
            throw e;
        }
    }

    /** {@link #attach(Path, int, NativeIo, Runnable)} without a destruction callback. */
    public static SimGuest attach(Path stateDir, int domid, NativeIo io) throws IOException {
        return attach(stateDir, domid, io, null);
    }

    private static MemoryMapping mapWhole(NativeIo io, Path file) throws IOException {
        long size = Files.size(file);
        int fd = io.open(file.toString(), Posix.O_RDWR, 0);
        try {
            return io.mapShared(fd, 0, size, true);
        } finally {
            io.close(fd);
        }
    }

    public int domid() {
        return domid;
    }

    public GuestMemory memory() {
        return memory;
    }

    public GuestGrantTable grants() {
        return grants;
    }

    public GuestEventChannels eventChannels() {
        return eventChannels;
    }

    /** The domain's xs_wire socket ({@code xenstore.sock}), present while the domain is introduced. */
    public Path xenstoreSocket() {
        return paths.xenstoreSocket(domid);
    }

    /**
     * A new XenStore connection as this domain (unprivileged; relative paths are under
     * {@code /local/domain/<domid>}), over {@code xenstore.sock}. The caller closes it.
     */
    public SocketXenStore connectXenStore() throws IOException {
        return new SocketXenStore(xenstoreSocket());
    }

    /** SCHEDOP_shutdown: tells the hypervisor (and through it the toolstack) this guest is done. */
    public void shutdown(ShutdownReason reason) {
        eventChannels.shutdown(reason.code());
    }

    /** Detaches: closes the event channel connection and unmaps memory and grant table. */
    @Override
    public void close() {
        eventChannels.close();
        grants.close();
        memory.close();
    }
}
