package io.backplane.control.client;

import java.io.IOException;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A connection to a running Backplane's control socket. Commands run one after the other in one
 * Gogo session; their output is streamed to the given streams as it arrives.
 */
public final class ControlClient implements AutoCloseable {

    private final Path socket;
    private final SocketChannel channel;

    private ControlClient(Path socket, SocketChannel channel) {
        this.socket = socket;
        this.channel = channel;
    }

    /**
     * Connects to {@code socket}.
     *
     * @throws NoInstanceException when nothing listens there (no file, or a stale file)
     */
    public static ControlClient connect(Path socket) throws IOException {
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            channel.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            channel.close();
            if (e instanceof java.net.SocketException && String.valueOf(e.getMessage()).contains("ermission")) {
                throw new IOException("permission denied on " + socket + " (the control socket is mode 0600: run as the user that started Backplane)", e);
            }
            throw new NoInstanceException(socket, e);
        }
        ControlClient client = new ControlClient(socket, channel);
        try {
            // File names in commands (xl:create demo.cfg) mean what they mean where the operator stands.
            client.exchange(ControlProtocol.DIRECTORY, Path.of("").toAbsolutePath().toString(), OutputStream.nullOutputStream(),
                    OutputStream.nullOutputStream());
        } catch (IOException e) {
            client.close();
            throw e;
        }
        return client;
    }

    /**
     * Waits for the instance on {@code socket} to finish starting: connects as soon as something
     * listens and asks {@code bp:ready} until it succeeds, so every command is registered.
     *
     * @return the connection, ready for commands
     * @throws IOException when it is not ready within {@code timeout}, saying what it waited for
     */
    public static ControlClient awaitReady(Path socket, java.time.Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String waitingFor = "nothing listens on " + socket;
        while (true) {
            try {
                ControlClient client = connect(socket);
                try {
                    java.io.ByteArrayOutputStream why = new java.io.ByteArrayOutputStream();
                    if (client.run(READY_COMMAND, OutputStream.nullOutputStream(), why) == 0) {
                        return client;
                    }
                    waitingFor = why.toString(StandardCharsets.UTF_8).strip().replace("\n", ";");
                } catch (IOException e) {
                    waitingFor = e.getMessage();
                }
                client.close();
            } catch (NoInstanceException e) {
                // not listening yet
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new IOException("Backplane at " + socket.getParent() + " is not ready after " + timeout.toSeconds()
                        + " s: " + waitingFor);
            }
            Thread.sleep(READY_POLL_MILLIS);
        }
    }

    /** The command that succeeds once an instance finished starting (bp:ready). */
    static final String READY_COMMAND = "bp:ready";
    private static final long READY_POLL_MILLIS = 50;

    /** The socket of the instance using {@code stateDir}. */
    public static Path socketIn(Path stateDir) {
        return stateDir.resolve(ControlProtocol.SOCKET_NAME);
    }

    /**
     * Runs one command line and copies its output to {@code out} and {@code err}.
     *
     * @return the command's exit status: 0 on success, non-zero when it failed
     */
    public int run(String commandLine, OutputStream out, OutputStream err) throws IOException {
        return exchange(ControlProtocol.COMMAND, commandLine, out, err);
    }

    private int exchange(byte type, String payload, OutputStream out, OutputStream err) throws IOException {
        ControlProtocol.write(channel, type, payload.getBytes(StandardCharsets.UTF_8));
        while (true) {
            ControlProtocol.Frame frame = ControlProtocol.read(channel);
            if (frame == null) {
                throw new IOException("Backplane at " + socket + " closed the connection before answering (is it stopping?)");
            }
            switch (frame.type()) {
                case ControlProtocol.STDOUT -> { out.write(frame.payload()); out.flush(); }
                case ControlProtocol.STDERR -> { err.write(frame.payload()); err.flush(); }
                case ControlProtocol.STATUS -> { return frame.status(); }
                default -> throw new IOException("unexpected control frame type '" + (char) frame.type() + "' from " + socket);
            }
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    /** Nothing listens on the control socket: no Backplane runs with that state directory. */
    public static final class NoInstanceException extends IOException {
        private static final long serialVersionUID = 1L;

        NoInstanceException(Path socket, IOException cause) {
            super("no Backplane instance is running with state dir " + socket.getParent()
                    + " (nothing listens on " + socket + ")", cause);
        }
    }
}
