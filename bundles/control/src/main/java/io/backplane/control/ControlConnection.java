package io.backplane.control;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Converter;
import org.osgi.service.log.Logger;

import io.backplane.control.client.ControlProtocol;

/**
 * One client of the control socket: reads command frames and runs them, one after the other, in
 * this connection's Gogo session on a worker thread. The reading thread stays on the socket while
 * a command runs, so a client that disconnects interrupts its command (how a watch is stopped).
 */
final class ControlConnection implements Runnable {

    private final SocketChannel channel;
    private final CommandSession session;
    private final Logger log;
    private final String name;
    private final ExecutorService worker;
    private final AtomicReference<Future<?>> running = new AtomicReference<>();

    ControlConnection(SocketChannel channel, CommandProcessor processor, Logger log, String name) {
        this.channel = channel;
        this.log = log;
        this.name = name;
        this.worker = Executors.newSingleThreadExecutor(r -> new Thread(r, name + "-command"));
        // Commands get an empty stdin: the socket carries only command lines, never keyboard input.
        this.session = processor.createSession(new ByteArrayInputStream(new byte[0]),
                new FrameStream(ControlProtocol.STDOUT), new FrameStream(ControlProtocol.STDERR));
    }

    @Override
    public void run() {
        try {
            ControlProtocol.Frame frame;
            while ((frame = ControlProtocol.read(channel)) != null) {
                if (frame.type() != ControlProtocol.COMMAND) {
                    log.warn("control client {} sent frame type '{}'; closing it", name, (char) frame.type());
                    break;
                }
                String line = new String(frame.payload(), StandardCharsets.UTF_8);
                running.set(worker.submit(() -> execute(line)));
            }
        } catch (IOException e) {
            if (channel.isOpen()) {
                log.debug("control client {} dropped: {}", name, e.getMessage());
            }
        } finally {
            close();
        }
    }

    void close() {
        Future<?> command = running.get();
        if (command != null) {
            command.cancel(true);
        }
        worker.shutdownNow();
        session.close();
        try {
            channel.close();
        } catch (IOException e) {
            log.debug("closing control client {}: {}", name, e.getMessage());
        }
    }

    private void execute(String line) {
        int status = 0;
        PrintStream out = new PrintStream(new FrameStream(ControlProtocol.STDOUT), true, StandardCharsets.UTF_8);
        try {
            Object result = session.execute(line);
            if (result != null) {
                String text = session.format(result, Converter.INSPECT).toString();
                out.print(text.endsWith("\n") ? text : text + "\n");
            }
        } catch (Exception e) {
            status = 1;
            String message = CommandFailure.message(e);
            log.debug("command '{}' from {} failed: {}", line, name, message, e);
            new PrintStream(new FrameStream(ControlProtocol.STDERR), true, StandardCharsets.UTF_8).println(message);
        }
        try {
            synchronized (channel) {
                ControlProtocol.writeStatus(channel, status);
            }
        } catch (IOException e) {
            log.debug("control client {} left before the status of '{}': {}", name, line, e.getMessage());
        }
    }

    /** Output written by a command, sent to the client frame by frame as it is written. */
    private final class FrameStream extends OutputStream {
        private final byte type;

        FrameStream(byte type) {
            this.type = type;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (len > 0) {
                synchronized (channel) {
                    ControlProtocol.write(channel, type, b, off, len);
                }
            }
        }
    }
}
