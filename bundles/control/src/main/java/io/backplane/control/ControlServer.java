package io.backplane.control;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.felix.service.command.CommandProcessor;
import org.osgi.service.log.Logger;

import io.backplane.control.client.ControlClient;

/**
 * The listening side of the control socket: binds the Unix socket (mode 0600), accepts clients on
 * its own thread and gives each a {@link ControlConnection}. Clients are served by a bounded pool
 * of threads and their commands run on another; a burst of clients queues (in the socket's
 * backlog, then in the pools' queues) instead of being refused. Closing it closes every client
 * and removes the socket file, so a stopped runtime leaves nothing behind.
 */
final class ControlServer implements AutoCloseable {

    /** Pending connections the kernel keeps before we accept them (capped by net.core.somaxconn). */
    static final int BACKLOG = 1024;
    /** Clients read at once; more wait their turn, connected, until one leaves. */
    static final int MAX_SERVED_CLIENTS = 256;
    /** Commands run at once over all clients; more wait in order. */
    static final int MAX_RUNNING_COMMANDS = 64;
    private static final long IDLE_THREAD_SECONDS = 30;
    /** Pause after a failed accept (e.g. out of file descriptors), so the loop does not spin. */
    private static final long ACCEPT_RETRY_MILLIS = 100;

    private final Path socket;
    private final ServerSocketChannel server;
    private final CommandProcessor processor;
    private final Logger log;
    private final Set<ControlConnection> connections = ConcurrentHashMap.newKeySet();
    private final Set<Thread> workers = ConcurrentHashMap.newKeySet();
    private final AtomicInteger clients = new AtomicInteger();
    private final ExecutorService readers;
    private final ExecutorService commands;
    private final Thread acceptor;

    ControlServer(Path socket, CommandProcessor processor, Logger log) throws IOException {
        this.socket = socket;
        this.processor = processor;
        this.log = log;
        removeStaleSocket(socket);
        Files.createDirectories(socket.getParent());
        this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(socket), BACKLOG);
            // Between bind and chmod the socket has the umask's mode; the launcher keeps the
            // state directory itself at 0700, so nobody else can reach it in that window.
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException e) {
            server.close();
            throw new IOException("cannot listen on " + socket + ": " + e.getMessage(), e);
        }
        this.readers = pool(MAX_SERVED_CLIENTS, "backplane-control-client");
        this.commands = pool(MAX_RUNNING_COMMANDS, "backplane-control-command");
        this.acceptor = new Thread(this::accept, "backplane-control-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** At most {@code threads} threads, created on demand and ended when idle; the queue holds the rest. */
    private ExecutorService pool(int threads, String name) {
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, IDLE_THREAD_SECONDS, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(() -> {
                        try {
                            r.run();
                        } finally {
                            workers.remove(Thread.currentThread());
                        }
                    }, name + "-" + n.incrementAndGet());
                    t.setDaemon(true);
                    workers.add(t);
                    return t;
                });
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    Path socket() {
        return socket;
    }

    int clientCount() {
        return connections.size();
    }

    private void accept() {
        boolean failing = false;
        while (server.isOpen()) {
            try {
                SocketChannel channel = server.accept();
                if (failing) {
                    log.info("control socket {} accepts clients again", socket);
                    failing = false;
                }
                ControlConnection connection = new ControlConnection(channel, processor, commands, log,
                        "control-client-" + clients.incrementAndGet());
                connections.add(connection);
                readers.execute(() -> {
                    try {
                        connection.run();
                    } finally {
                        connections.remove(connection);
                    }
                });
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!server.isOpen()) {
                    return;
                }
                if (!failing) {
                    log.error("control socket {} cannot accept clients ({}); retrying", socket, e.getMessage());
                    failing = true;
                }
                try {
                    Thread.sleep(ACCEPT_RETRY_MILLIS);
                } catch (InterruptedException stop) {
                    return;
                }
            }
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        readers.shutdownNow();
        commands.shutdownNow();
        connections.forEach(ControlConnection::close);
        Files.deleteIfExists(socket);
        // Closing a connection interrupts its command; wait (bounded) for those threads to unwind,
        // so no shell command still runs once the control socket is gone.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        try {
            acceptor.join(2000);
            for (Thread worker : workers) {
                if (worker == Thread.currentThread()) {
                    continue; // a shell command stopping the runtime closes us from its own thread
                }
                worker.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * A socket file left by a crashed instance would make bind fail; one with a live listener
     * means another instance uses this state directory, which must not be disturbed.
     */
    private static void removeStaleSocket(Path socket) throws IOException {
        if (!Files.exists(socket)) {
            return;
        }
        try (ControlClient live = ControlClient.connect(socket)) {
            throw new IOException("another Backplane instance is already listening on " + socket);
        } catch (ControlClient.NoInstanceException stale) {
            Files.delete(socket);
        }
    }
}
