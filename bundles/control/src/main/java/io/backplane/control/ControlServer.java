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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.felix.service.command.CommandProcessor;
import org.osgi.service.log.Logger;

import io.backplane.control.client.ControlClient;

/**
 * The listening side of the control socket: binds the Unix socket (mode 0600), accepts clients on
 * its own thread and gives each a {@link ControlConnection}. Closing it closes every client and
 * removes the socket file, so a stopped runtime leaves nothing behind.
 */
final class ControlServer implements AutoCloseable {

    private final Path socket;
    private final ServerSocketChannel server;
    private final CommandProcessor processor;
    private final Logger log;
    private final Set<ControlConnection> connections = ConcurrentHashMap.newKeySet();
    private final Set<Thread> workers = ConcurrentHashMap.newKeySet();
    private final AtomicInteger clients = new AtomicInteger();
    private final Thread acceptor;

    ControlServer(Path socket, CommandProcessor processor, Logger log) throws IOException {
        this.socket = socket;
        this.processor = processor;
        this.log = log;
        removeStaleSocket(socket);
        Files.createDirectories(socket.getParent());
        this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(socket));
            // Between bind and chmod the socket has the umask's mode; the launcher keeps the
            // state directory itself at 0700, so nobody else can reach it in that window.
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException e) {
            server.close();
            throw new IOException("cannot listen on " + socket + ": " + e.getMessage(), e);
        }
        this.acceptor = new Thread(this::accept, "backplane-control-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    Path socket() {
        return socket;
    }

    int clientCount() {
        return connections.size();
    }

    private void accept() {
        while (server.isOpen()) {
            try {
                SocketChannel channel = server.accept();
                String name = "control-client-" + clients.incrementAndGet();
                ControlConnection connection = new ControlConnection(channel, processor, log, name);
                connections.add(connection);
                Thread thread = new Thread(() -> {
                    try {
                        connection.run();
                    } finally {
                        connections.remove(connection);
                        workers.remove(Thread.currentThread());
                    }
                }, "backplane-" + name);
                thread.setDaemon(true);
                workers.add(thread);
                thread.start();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                log.error("control socket {} cannot accept clients: {}", socket, e.getMessage());
                return;
            }
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
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
