package io.backplane.xenstore.wire;

import io.backplane.api.log.OperatorLog;
import io.backplane.api.log.SourceRateLimit;
import io.backplane.hypervisor.sim.abi.SimPaths;
import io.backplane.xenstore.store.DomainListener;
import io.backplane.xenstore.store.Store;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * xenstored on Unix stream sockets. {@code <stateDir>/xenstored/socket} (and {@code socket_ro},
 * which old libxenstore opens for read-only handles) serve privileged dom0 connections, so
 * {@code XENSTORED_RUNDIR=<stateDir>/xenstored} points Xen's own tools at it. Each introduced
 * domain gets {@code <stateDir>/domains/<domid>/xenstore.sock}, whose connections act as that
 * unprivileged domain, the way its store ring would; the socket goes when the domain is released.
 */
public final class XenStoreDaemon implements DomainListener, AutoCloseable {
    private final Store store;
    private final Path stateDir;
    private final OperatorLog log;
    private final ClientLog clientLog;
    private final List<Listener> dom0Listeners = new ArrayList<>();
    private final Map<Integer, Listener> domainListeners = new ConcurrentHashMap<>();
    private volatile boolean closed;

    public XenStoreDaemon(Store store, Path stateDir, OperatorLog log) {
        this(store, stateDir, log, new SourceRateLimit());
    }

    /** {@code clientLimit}: how many lines about one misbehaving client source reach {@code log}. */
    public XenStoreDaemon(Store store, Path stateDir, OperatorLog log, SourceRateLimit clientLimit) {
        this.store = store;
        this.stateDir = stateDir;
        this.log = log;
        this.clientLog = new ClientLog(log, clientLimit);
    }

    public static Path dom0Socket(Path stateDir) {
        return stateDir.resolve("xenstored").resolve("socket");
    }

    public static Path domainSocket(Path stateDir, int domid) {
        return new SimPaths(stateDir).xenstoreSocket(domid);
    }

    public Path dom0Socket() {
        return dom0Socket(stateDir);
    }

    public synchronized void start() throws IOException {
        Path socket = dom0Socket();
        dom0Listeners.add(listen(socket, 0, true));
        dom0Listeners.add(listen(socket.resolveSibling("socket_ro"), 0, true));
        store.addDomainListener(this);
        for (int domid : store.introducedDomains()) {
            domainIntroduced(domid);
        }
        log.info("xenstored listening on " + socket);
    }

    @Override
    public void domainIntroduced(int domid) {
        if (closed || domainListeners.containsKey(domid)) {
            return;
        }
        try {
            domainListeners.put(domid, listen(domainSocket(stateDir, domid), domid, false));
            log.info("domain " + domid + " introduced: its XenStore socket is " + domainSocket(stateDir, domid));
        } catch (IOException e) {
            log.warn("domain " + domid + " introduced, but its XenStore socket could not be created: " + e.getMessage());
        }
    }

    @Override
    public void domainReleased(int domid) {
        if (closeDomainListener(domid)) {
            log.info("domain " + domid + " released: its XenStore socket and connections are closed");
        }
    }

    /** Closes the domain's socket and its connections, and removes its directory unless other files are in it. */
    private boolean closeDomainListener(int domid) {
        Listener l = domainListeners.remove(domid);
        if (l == null) {
            return false;
        }
        l.close();
        try {
            Files.deleteIfExists(l.path.getParent());
        } catch (IOException ignored) {
            // the directory holds other files now; leave it
        }
        return true;
    }

    /** Number of open client sockets. */
    public int openConnections() {
        int n = 0;
        for (Listener l : dom0Listeners) {
            n += l.connections.size();
        }
        for (Listener l : domainListeners.values()) {
            n += l.connections.size();
        }
        return n;
    }

    @Override
    public synchronized void close() {
        closed = true;
        store.removeDomainListener(this);
        dom0Listeners.forEach(Listener::close);
        dom0Listeners.clear();
        for (Integer domid : List.copyOf(domainListeners.keySet())) {
            closeDomainListener(domid);
        }
    }

    // ---- live update ----

    /** Hand-over keys of the daemon and of each listening socket. */
    static final String STORE = "store";
    static final String LISTENERS = "listeners";
    static final String PATH = "path";
    static final String DOMID = "domid";
    static final String PRIVILEGED = "privileged";
    static final String SERVER = "server";
    static final String CONNECTIONS = "connections";

    /** Whether {@code handOver} is a daemon's hand-over ({@link #handOver}). */
    public static boolean isHandOver(Map<String, Object> handOver) {
        return handOver.containsKey(STORE) && handOver.containsKey(LISTENERS);
    }

    /**
     * Stops serving without closing a socket, for a successor ({@link #restore}), as xenstored's
     * live update does: no new connection is accepted, every reader stops between requests, then
     * (no request running anywhere, so the store no longer changes) the queued watch events are
     * written and the store, each listening socket and each connection are returned: the socket,
     * its watches and transactions, and any request it had sent only in part. JDK types only.
     */
    public synchronized Map<String, Object> handOver() throws IOException, InterruptedException {
        closed = true;
        store.removeDomainListener(this);
        List<Listener> all = new ArrayList<>(dom0Listeners);
        all.addAll(domainListeners.values());
        for (Listener l : all) {
            l.stopAccepting();
        }
        for (Listener l : all) {
            for (WireConnection c : l.connections) {
                c.stopReading();
            }
        }
        List<Map<String, Object>> listeners = new ArrayList<>();
        for (Listener l : all) {
            listeners.add(l.handOver());
        }
        dom0Listeners.clear();
        domainListeners.clear();
        return Map.of(STORE, store.image(), LISTENERS, listeners);
    }

    /** The store of a {@link #handOver}, with the successor's quotas. */
    public static Store restoreStore(Map<String, Object> handOver, io.backplane.xenstore.store.Quotas quotas) {
        return Store.fromImage((byte[]) handOver.get(STORE), quotas);
    }

    /**
     * Serves {@code store} (from {@link #restoreStore}) on the sockets of a {@link #handOver}: every
     * connection goes on where its predecessor stopped. Returns how many connections were kept.
     */
    public synchronized int restore(Map<String, Object> handOver) throws IOException {
        int kept = 0;
        for (Object o : (List<?>) handOver.get(LISTENERS)) {
            Map<?, ?> m = (Map<?, ?>) o;
            Listener l = new Listener((ServerSocketChannel) m.get(SERVER), Path.of((String) m.get(PATH)),
                    (Integer) m.get(DOMID), (Boolean) m.get(PRIVILEGED));
            for (Object o2 : (List<?>) m.get(CONNECTIONS)) {
                Map<?, ?> c = (Map<?, ?>) o2;
                if (c.containsKey(WireConnection.STATE)) {
                    l.add(onClose -> WireConnection.restored(c, store, clientLog, onClose));
                    kept++;
                } else { // accepted during the hand-over: nothing sent yet that was read
                    l.add(onClose -> new WireConnection((SocketChannel) c.get(WireConnection.CHANNEL), store, l.domid,
                            l.privileged, clientLog, onClose));
                }
            }
            if (l.domid == 0 && l.privileged) {
                dom0Listeners.add(l);
            } else {
                domainListeners.put(l.domid, l);
            }
            l.acceptor.start();
        }
        store.addDomainListener(this);
        return kept;
    }

    private Listener listen(Path path, int domid, boolean privileged) throws IOException {
        Files.createDirectories(path.getParent());
        Files.deleteIfExists(path); // a stale socket from a previous run
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
        Listener l = new Listener(server, path, domid, privileged);
        l.acceptor.start();
        return l;
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // gone anyway
        }
    }

    /** How long closing a listener waits for its acceptor and its connections' threads to end. */
    private static final long CLOSE_WAIT_MILLIS = 2000;

    private final class Listener {
        final ServerSocketChannel server;
        final Path path;
        final int domid;
        final boolean privileged;
        final Set<WireConnection> connections = ConcurrentHashMap.newKeySet();
        final Thread acceptor;
        volatile boolean stopping;
        /** Accepted after the hand-over began: handed over as a new connection. */
        private SocketChannel lateAccepted;

        Listener(ServerSocketChannel server, Path path, int domid, boolean privileged) {
            this.server = server;
            this.path = path;
            this.domid = domid;
            this.privileged = privileged;
            this.acceptor = new Thread(this::acceptLoop, "xenstored-accept-" + path.getFileName() + "-" + domid);
            acceptor.setDaemon(true);
        }

        void acceptLoop() {
            while (true) {
                SocketChannel ch;
                try {
                    ch = server.accept();
                } catch (ClosedChannelException e) {
                    return;
                } catch (IOException e) {
                    if (!server.isOpen()) {
                        return;
                    }
                    // e.g. out of file descriptors under a flood of connections: keep the log readable
                    clientLog.warn(path.toString(), "accept on " + path + " failed: " + e.getMessage());
                    continue;
                }
                if (stopping) {
                    // The wake-up of stopAccepting, or a client that came just then: the successor serves it.
                    lateAccepted = ch;
                    return;
                }
                try {
                    add(connection -> new WireConnection(ch, store, domid, privileged, clientLog, connection));
                } catch (IOException e) {
                    closeQuietly(ch);
                    clientLog.warn(path.toString(), "a connection on " + path + " could not be set up: " + e.getMessage());
                }
            }
        }

        interface Factory {
            WireConnection create(Runnable onClose) throws IOException;
        }

        void add(Factory f) throws IOException {
            WireConnection[] self = new WireConnection[1];
            WireConnection wc = f.create(() -> connections.remove(self[0]));
            self[0] = wc;
            connections.add(wc);
            wc.start();
        }

        /** A hand-over's first step: no new connection is accepted; the socket stays bound and open. */
        void stopAccepting() throws InterruptedException {
            stopping = true;
            // accept() cannot be interrupted without closing the socket: wake it with a connection of our own.
            try (SocketChannel wake = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
                acceptor.join(TimeUnit.SECONDS.toMillis(5));
            } catch (IOException e) {
                log.warn("could not wake the acceptor of " + path + " for the hand-over: " + e.getMessage());
            }
        }

        Map<String, Object> handOver() throws InterruptedException, IOException {
            List<Map<String, Object>> kept = new ArrayList<>();
            for (WireConnection c : List.copyOf(connections)) {
                Map<String, Object> h = c.handOver();
                if (h != null) {
                    kept.add(h);
                }
            }
            if (lateAccepted != null) {
                kept.add(Map.of(WireConnection.CHANNEL, lateAccepted));
            }
            return Map.of(PATH, path.toString(), DOMID, domid, PRIVILEGED, privileged, SERVER, server, CONNECTIONS, kept);
        }

        void close() {
            try {
                server.close();
            } catch (IOException ignored) {
                // closing anyway
            }
            try {
                Files.deleteIfExists(path);
            } catch (IOException e) {
                log.warn("could not remove " + path + ": " + e.getMessage());
            }
            // A connection accepted just before the close is added after accept() returns: wait
            // for the acceptor to leave, then for each connection's threads, so that no socket
            // outlives its listener.
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_WAIT_MILLIS);
            try {
                if (Thread.currentThread() != acceptor) {
                    acceptor.join(CLOSE_WAIT_MILLIS);
                }
                List<WireConnection> open = List.copyOf(connections);
                for (WireConnection c : open) {
                    c.close();
                }
                for (WireConnection c : open) {
                    c.awaitThreads(deadline);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
