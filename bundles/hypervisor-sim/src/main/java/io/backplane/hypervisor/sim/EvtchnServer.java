package io.backplane.hypervisor.sim;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
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
    private final Set<Thread> connectionThreads = ConcurrentHashMap.newKeySet();
    private final Thread acceptor;
    /** Unclaimed stream tokens: token to the control connection it joins. */
    private final java.util.Map<Integer, GuestConnection> tokens = new ConcurrentHashMap<>();
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
        this.acceptor = new Thread(this::acceptLoop, "sim-evtchn-accept-d" + domain.domid());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    private void acceptLoop() {
        try {
            while (true) {
                SocketChannel ch = server.accept();
                GuestConnection c;
                try {
                    c = new GuestConnection(domain, ch, evtchn, log, this);
                } catch (IOException e) {
                    log.warn("domain " + domain.domid() + ": could not serve an event channel connection: " + e.getMessage());
                    ch.close();
                    continue;
                }
                connections.add(c);
                Thread t = new Thread(() -> {
                    try {
                        c.run();
                    } finally {
                        connectionThreads.remove(Thread.currentThread());
                    }
                }, "sim-evtchn-d" + domain.domid());
                t.setDaemon(true);
                connectionThreads.add(t);
                t.start();
            }
        } catch (ClosedChannelException e) {
            // closed by close()
        } catch (IOException e) {
            log.warn("domain " + domain.domid() + " event channel socket failed: " + e.getMessage());
        }
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
