package io.backplane.control;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Converter;
import org.osgi.service.log.Logger;

import io.backplane.control.client.ControlProtocol;

/**
 * One client of the control socket: reads command frames and runs them, one after the other and
 * in order, in this connection's Gogo session on the server's command pool. The reading thread
 * stays on the socket while a command runs, so a client that disconnects interrupts its command
 * (how a watch is stopped). Every frame gets an answer: a frame that is not a command, or a
 * command that is not valid UTF-8 or holds a NUL byte, gets an error line and status 1.
 */
final class ControlConnection implements Runnable {

    private final SocketChannel channel;
    private final CommandProcessor processor;
    private final Executor commands;
    private final Logger log;
    private final String name;
    /** What this client asked for and is not done yet, run one at a time; guarded by itself. */
    private final ArrayDeque<Runnable> pending = new ArrayDeque<>();
    private boolean scheduled;
    private boolean closed;
    /** The thread running this client's command, interrupted when the client leaves; guarded by pending. */
    private Thread running;
    private volatile CommandSession session;

    ControlConnection(SocketChannel channel, CommandProcessor processor, Executor commands, Logger log, String name) {
        this.channel = channel;
        this.processor = processor;
        this.commands = commands;
        this.log = log;
        this.name = name;
    }

    @Override
    public void run() {
        try {
            // Commands get an empty stdin: the socket carries only command lines, never keyboard input.
            session = processor.createSession(new ByteArrayInputStream(new byte[0]),
                    new FrameStream(ControlProtocol.STDOUT), new FrameStream(ControlProtocol.STDERR));
            ControlProtocol.Frame frame;
            while ((frame = ControlProtocol.read(channel)) != null) {
                String refusal = refusal(frame);
                if (refusal != null) {
                    log.debug("control client {}: {}", name, refusal);
                    submit(() -> answerError(refusal));
                } else if (frame.type() == ControlProtocol.DIRECTORY) {
                    Path dir = Path.of(new String(frame.payload(), StandardCharsets.UTF_8));
                    submit(() -> {
                        session.currentDir(dir);
                        sendStatus(0, "(directory)");
                    });
                } else {
                    String line = new String(frame.payload(), StandardCharsets.UTF_8);
                    submit(() -> execute(line));
                }
            }
        } catch (IOException e) {
            if (channel.isOpen()) {
                log.debug("control client {} dropped: {}", name, e.getMessage());
                // A frame too long to read cannot be skipped: say why before hanging up.
                answerError("refused: " + e.getMessage() + "; closing the connection");
            }
        } finally {
            close(); // a client that leaves interrupts its running command
        }
    }

    /** Why a frame cannot be run as a command, or null when it can. */
    static String refusal(ControlProtocol.Frame frame) {
        if (frame.type() != ControlProtocol.COMMAND && frame.type() != ControlProtocol.DIRECTORY) {
            return "refused: frame type " + (frame.type() & 0xff) + " is not a command ('C') or directory ('D')";
        }
        byte[] p = frame.payload();
        for (int i = 0; i < p.length; i++) {
            if (p[i] == 0) {
                return "refused: the command holds a NUL byte at offset " + i;
            }
        }
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(p));
        } catch (CharacterCodingException e) {
            return "refused: the command is not valid UTF-8";
        }
        if (frame.type() == ControlProtocol.DIRECTORY) {
            String dir = new String(p, StandardCharsets.UTF_8);
            try {
                if (!Path.of(dir).isAbsolute()) {
                    return "refused: the working directory '" + dir + "' is not absolute";
                }
            } catch (java.nio.file.InvalidPathException e) {
                return "refused: the working directory is not a path: " + e.getReason();
            }
        }
        return null;
    }

    /** Queues a task behind this client's earlier ones; they run on the command pool one at a time. */
    private void submit(Runnable task) {
        synchronized (pending) {
            if (closed) {
                return;
            }
            pending.add(task);
            if (scheduled) {
                return;
            }
            scheduled = true;
        }
        schedule();
    }

    private void schedule() {
        try {
            commands.execute(this::runNext);
        } catch (RejectedExecutionException e) {
            close(); // the server is stopping
        }
    }

    /** Runs one task, then hands the pool thread back (other clients' commands interleave fairly). */
    private void runNext() {
        Runnable task;
        synchronized (pending) {
            task = closed ? null : pending.poll();
            if (task == null) {
                scheduled = false;
                return;
            }
            running = Thread.currentThread();
        }
        try {
            task.run();
        } finally {
            boolean more;
            synchronized (pending) {
                running = null;
                Thread.interrupted(); // an interrupt meant for this client's command ends here
                more = !closed && !pending.isEmpty();
                if (!more) {
                    scheduled = false;
                }
            }
            if (more) {
                schedule();
            }
        }
    }

    void close() {
        synchronized (pending) {
            closed = true;
            pending.clear();
            if (running != null && running != Thread.currentThread()) {
                running.interrupt();
            }
        }
        CommandSession s = session;
        if (s != null) {
            s.close();
        }
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
        } catch (Exception | StackOverflowError | LinkageError e) {
            // A deeply nested line overflows Gogo's parser; the client still gets its answer.
            status = 1;
            String message = CommandFailure.message(e);
            log.debug("command '{}' from {} failed: {}", line, name, message, e);
            new PrintStream(new FrameStream(ControlProtocol.STDERR), true, StandardCharsets.UTF_8).println(message);
        }
        sendStatus(status, line);
    }

    private void answerError(String message) {
        new PrintStream(new FrameStream(ControlProtocol.STDERR), true, StandardCharsets.UTF_8).println(message);
        sendStatus(1, "(refused)");
    }

    private void sendStatus(int status, String line) {
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
