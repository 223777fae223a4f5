package io.backplane.hypervisor.sim;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** The listening {@code evtchn.sock} of one domain and the connections on it. */
final class EvtchnServer {
    /** How long destruction waits for the acceptor and the connection threads, all together. */
    private static final long JOIN_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(2);

    private final SimDomain domain;
    private final Path socketPath;
    private final ServerSocketChannel server;
    private final EventChannelSwitch evtchn;
    private final GuestLimitedLog log;
    private final Set<GuestConnection> connections = ConcurrentHashMap.newKeySet();
    /** Every connection a thread serves (device opens and their event streams), for a hand-over. */
    private final Set<GuestConnection> served = ConcurrentHashMap.newKeySet();
    private final Set<Thread> connectionThreads = ConcurrentHashMap.newKeySet();
    /** accept() through a selector, so a hand-over can stop the acceptor without closing the socket. */
    private final Selector acceptSelector;
    private volatile boolean handingOver;
    /** The connections {@link #quiesce} stopped. */
    private final Set<GuestConnection> handed = ConcurrentHashMap.newKeySet();
    /** Connections taken over and not yet served. */
    private final List<GuestConnection> restored = new ArrayList<>();
    private final Thread acceptor;
    /** Unclaimed stream tokens: token to the control connection it joins. */
    private final Map<Integer, GuestConnection> tokens = new ConcurrentHashMap<>();
    private final java.security.SecureRandom random = new java.security.SecureRandom();

    EvtchnServer(SimDomain domain, Path socketPath, EventChannelSwitch evtchn, GuestLimitedLog log, DomainFiles files) throws IOException {
        this.domain = domain;
        this.socketPath = socketPath;
        this.evtchn = evtchn;
        this.log = log;
        Files.deleteIfExists(socketPath);
        this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socketPath));
        files.restrict(socketPath);
        this.acceptSelector = Selector.open();
        this.acceptor = startAcceptor();
    }

    /** The predecessor's listening socket, served from now on (a hand-over). */
    private EvtchnServer(SimDomain domain, Path socketPath, ServerSocketChannel server, EventChannelSwitch evtchn,
                         GuestLimitedLog log) throws IOException {
        this.domain = domain;
        this.socketPath = socketPath;
        this.evtchn = evtchn;
        this.log = log;
        this.server = server;
        this.acceptSelector = Selector.open();
        this.acceptor = startAcceptor();
    }

    private Thread startAcceptor() throws IOException {
        server.configureBlocking(false);
        server.register(acceptSelector, SelectionKey.OP_ACCEPT);
        Thread t = new Thread(this::acceptLoop, "sim-evtchn-accept-d" + domain.domid());
        t.setDaemon(true);
        t.start();
        return t;
    }

    private void acceptLoop() {
        try (Selector sel = acceptSelector) {
            while (!handingOver) {
                SocketChannel ch = server.accept();
                if (ch == null) {
                    sel.select();
                    sel.selectedKeys().clear();
                    continue;
                }
                GuestConnection c;
                try {
                    c = new GuestConnection(domain, ch, evtchn, log, this);
                } catch (IOException e) {
                    log.warn("domain " + domain.domid() + ": could not serve an event channel connection: " + e.getMessage());
                    ch.close();
                    continue;
                }
                connections.add(c);
                serve(c);
            }
        } catch (ClosedChannelException e) {
            // closed by close()
        } catch (IOException e) {
            log.warn("domain " + domain.domid() + " event channel socket failed: " + e.getMessage());
        }
    }

    private void serve(GuestConnection c) {
        served.add(c);
        Thread t = new Thread(() -> {
            try {
                c.run();
            } finally {
                served.remove(c);
                connectionThreads.remove(Thread.currentThread());
            }
        }, "sim-evtchn-d" + domain.domid());
        t.setDaemon(true);
        connectionThreads.add(t);
        t.start();
    }

    /**
     * The first half of a hand-over: stops accepting and stops each connection between two
     * messages (a partial one is kept), leaving every socket open. Returns false when a thread
     * did not stop within the bound.
     */
    boolean quiesce() {
        handingOver = true;
        acceptSelector.wakeup();
        long deadline = System.nanoTime() + JOIN_NANOS;
        join(acceptor, deadline);
        Set<GuestConnection> stopping = Set.copyOf(served);
        for (GuestConnection c : stopping) {
            c.stopForHandOver();
        }
        for (Thread t : connectionThreads) {
            join(t, deadline);
        }
        stopping.stream().filter(GuestConnection::stoppedForHandOver).forEach(handed::add); // not those that ended meanwhile
        return connectionThreads.isEmpty() && !acceptor.isAlive();
    }

    /**
     * This server as JDK values: the listening socket and each connection (see
     * {@link GuestConnection#handOver}), numbered; {@code ids} gets each connection's number, for
     * the ports they own. After {@link #quiesce}.
     */
    Map<String, Object> handOver(Map<GuestConnection, Integer> ids) {
        List<Map<String, Object>> list = new ArrayList<>();
        for (GuestConnection c : handed) {
            ids.put(c, ids.size());
        }
        for (GuestConnection c : handed) {
            list.add(c.handOver(ids));
        }
        Map<Integer, Integer> tokenIds = new HashMap<>();
        tokens.forEach((t, c) -> {
            Integer id = ids.get(c);
            if (id != null) {
                tokenIds.put(t, id);
            }
        });
        return Map.of(SimHandOver.SERVER, server, SimHandOver.CONNECTIONS, list, SimHandOver.TOKENS, tokenIds);
    }

    /** Serves a predecessor's socket and connections; {@code byId} gets each restored connection by its number. */
    static EvtchnServer restore(SimDomain domain, Path socketPath, EventChannelSwitch evtchn, GuestLimitedLog log,
                                Map<String, Object> state, Map<Integer, GuestConnection> byId) throws IOException {
        EvtchnServer s = new EvtchnServer(domain, socketPath, (ServerSocketChannel) state.get(SimHandOver.SERVER), evtchn, log);
        List<?> list = (List<?>) state.get(SimHandOver.CONNECTIONS);
        List<Map<?, ?>> kept = new ArrayList<>();
        for (Object o : list) {
            Map<?, ?> m = (Map<?, ?>) o;
            GuestConnection c = new GuestConnection(domain, (SocketChannel) m.get(SimHandOver.CHANNEL), evtchn, log, s);
            byId.put((Integer) m.get(SimHandOver.ID), c);
            kept.add(m);
        }
        for (Map<?, ?> m : kept) {
            GuestConnection c = byId.get((Integer) m.get(SimHandOver.ID));
            if (c.restore(m, byId)) {
                s.connections.add(c); // a device open (or one that has not said yet), not a stream
            }
            s.restored.add(c);
        }
        ((Map<?, ?>) state.get(SimHandOver.TOKENS)).forEach((t, id) -> s.tokens.put((Integer) t, byId.get((Integer) id)));
        return s;
    }

    /** Starts the threads of restored connections, once the ports they own are in place. */
    void serveRestored() {
        restored.forEach(this::serve);
        restored.clear();
    }

    /**
     * The one-time token of a control connection's event stream (the same one until claimed; 0
     * once its stream is attached). Random, so a stray connection cannot guess its way in.
     */
    synchronized int token(GuestConnection c) {
        for (var e : tokens.entrySet()) {
            if (e.getValue() == c) {
                return e.getKey();
            }
        }
        int t;
        do {
            t = random.nextInt(Integer.MAX_VALUE - 1) + 1;
        } while (tokens.containsKey(t));
        tokens.put(t, c);
        return t;
    }

    /** The control connection the token names, once; null for an unknown or used token. */
    synchronized GuestConnection claimToken(int token, GuestConnection stream) {
        GuestConnection c = tokens.remove(token);
        if (c != null) {
            connections.remove(stream); // a stream is part of its control connection, not a device open
        }
        return c;
    }

    synchronized void forgetToken(GuestConnection c) {
        tokens.values().removeIf(v -> v == c);
    }

    void removed(GuestConnection c) {
        connections.remove(c);
    }

    int connections() {
        return connections.size();
    }

    /**
     * Stops accepting, drops every guest connection and removes the socket file. Returns once
     * the connections' sockets are really closed: a non-blocking channel registered with a
     * selector keeps its descriptor until its selector is closed, which its own thread does on
     * the way out. So the acceptor is joined first (every accepted connection is then known),
     * then each connection thread (bounded, a stuck one is reported, not waited for).
     */
    void close() throws IOException {
        server.close();
        acceptSelector.wakeup();
        long deadline = System.nanoTime() + JOIN_NANOS;
        join(acceptor, deadline);
        for (GuestConnection c : connections) {
            c.close();
        }
        for (Thread t : connectionThreads) {
            join(t, deadline);
        }
        if (!connectionThreads.isEmpty()) {
            log.warn("domain " + domain.domid() + ": " + connectionThreads.size()
                    + " event channel connection(s) did not close within 2 s");
        }
        Files.deleteIfExists(socketPath);
    }

    private static void join(Thread t, long deadline) {
        long left = deadline - System.nanoTime();
        if (left <= 0 || t == Thread.currentThread()) {
            return;
        }
        try {
            t.join(Math.max(1, left / 1_000_000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
