package io.backplane.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.Proxy;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.felix.gogo.runtime.CommandProcessorImpl;
import org.apache.felix.gogo.runtime.threadio.ThreadIOImpl;
import org.apache.felix.service.command.Descriptor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.service.log.Logger;

import io.backplane.control.client.ControlClient;
import io.backplane.control.client.ControlProtocol;
import io.backplane.control.client.ShellMain;

/** The control socket against Gogo's real command processor, over a real Unix socket. */
class ControlServerTest {

    @TempDir
    Path stateDir;

    private final ThreadIOImpl threadIO = new ThreadIOImpl();
    private CommandProcessorImpl processor;
    private ControlServer server;
    private Path socket;
    private final Commands commands = new Commands();

    /** Commands a test can run; the way any bundle's Gogo command object looks. */
    public static class Commands {
        final CountDownLatch watching = new CountDownLatch(1);
        final CountDownLatch interrupted = new CountDownLatch(1);

        @Descriptor("echo a word back")
        public String say(String word) {
            return "said " + word;
        }

        public String where(org.apache.felix.service.command.CommandSession session, String file) {
            return session.currentDir().resolve(file).toString();
        }

        public String lines() {
            return "vif 1/0\nvbd 1/51712\n";
        }

        public void fail(String why) {
            throw new IllegalArgumentException("no such domain: " + why);
        }

        public void watch() {
            System.out.println("watching");
            watching.countDown();
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException e) {
                interrupted.countDown();
            }
        }
    }

    // The JVM's own streams: Gogo's ThreadIOImpl swaps them and refuses to start over its own.
    private final PrintStream systemOut = System.out;
    private final PrintStream systemErr = System.err;
    private final java.io.InputStream systemIn = System.in;

    @BeforeEach
    void start() throws IOException {
        threadIO.start();
        processor = new CommandProcessorImpl(threadIO);
        processor.addCommand("test", commands);
        socket = ControlClient.socketIn(stateDir);
        server = new ControlServer(socket, processor, silentLogger());
    }

    @AfterEach
    void stop() throws IOException {
        try {
            if (server != null) {
                server.close();
            }
            processor.stop();
            threadIO.stop();
        } finally {
            // Put the JVM's streams back even when a command thread of this test outlived it.
            System.setOut(systemOut);
            System.setErr(systemErr);
            System.setIn(systemIn);
        }
    }

    /** bp:help's layout, as the console reads command names from it. */
    public static class Help {
        public String help() {
            return "test:lines  two lines\ntest:say    echo a word back\n2 commands; bp:help COMMAND shows its parameters";
        }
    }

    /**
     * The console at a terminal (JLine over an xterm-like stream pair, as a user types): Tab
     * completes a command name, Ctrl-P (the up arrow in emacs mode) recalls the last line, the history is saved.
     */
    @Test
    void theConsoleCompletesCommandNamesRecallsHistoryAndSavesIt(@TempDir Path home) throws Exception {
        processor.addCommand("bp", new Help());
        java.io.PipedOutputStream keys = new java.io.PipedOutputStream();
        java.io.PipedInputStream typed = new java.io.PipedInputStream(keys);
        ByteArrayOutputStream screen = new ByteArrayOutputStream();
        Path history = home.resolve(".backplane_history");
        try (ControlClient client = ControlClient.connect(socket);
             org.jline.terminal.Terminal terminal = org.jline.terminal.TerminalBuilder.builder().system(false)
                     .streams(typed, screen).type("xterm").size(new org.jline.terminal.Size(160, 40)).build()) {
            java.util.concurrent.CompletableFuture<Integer> status = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return io.backplane.control.client.ConsoleAccess.run(client, socket, terminal, history);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            // As a user types, one line after the other's answer: Tab completes test:sa, Ctrl-P recalls.
            typeAndAwait(keys, screen, "test:sa\thello\r", 1);
            typeAndAwait(keys, screen, "\u0010\r", 2);
            keys.write("exit 7\r".getBytes(StandardCharsets.UTF_8));
            keys.flush();
            assertThat(status.get(20, TimeUnit.SECONDS)).isEqualTo(7);
        }
        assertThat(Files.readAllLines(history)).anyMatch(l -> l.endsWith("test:say hello"));
    }

    private static void typeAndAwait(java.io.OutputStream keys, ByteArrayOutputStream screen, String typed, int answers)
            throws Exception {
        keys.write(typed.getBytes(StandardCharsets.UTF_8));
        keys.flush();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (screen.toString(StandardCharsets.UTF_8).split("said hello", -1).length - 1 < answers) {
            assertThat(System.nanoTime()).as("answer %d to '%s'; screen: %s", answers, typed, screen).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    @Test
    void relativeFileNamesResolveAgainstTheClientsWorkingDirectoryNotTheServers() throws IOException {
        try (ControlClient client = ControlClient.connect(socket)) {
            Output output = new Output();
            assertThat(client.run("test:where demo.cfg", output.out, output.err)).isZero();
            assertThat(output.out()).isEqualTo(Path.of("").toAbsolutePath().resolve("demo.cfg") + "\n");
        }
        try (SocketChannel raw = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            raw.connect(UnixDomainSocketAddress.of(socket));
            assertThat(rawCommand(raw, ControlProtocol.DIRECTORY, "/srv/guests".getBytes(StandardCharsets.UTF_8)))
                    .containsExactly("0", "", "");
            assertThat(rawCommand(raw, ControlProtocol.COMMAND, "test:where demo.cfg".getBytes(StandardCharsets.UTF_8)))
                    .containsExactly("0", "/srv/guests/demo.cfg\n", "");
            assertThat(rawCommand(raw, ControlProtocol.DIRECTORY, "guests".getBytes(StandardCharsets.UTF_8)))
                    .containsExactly("1", "", "refused: the working directory 'guests' is not absolute\n");
        }
    }

    @Test
    void runsACommandAndReturnsItsOutputAndStatusZero() throws IOException {
        try (ControlClient client = ControlClient.connect(socket)) {
            Output output = new Output();
            assertThat(client.run("test:say hello", output.out, output.err)).isZero();
            assertThat(output.out()).isEqualTo("said hello\n");
            assertThat(output.err()).isEmpty();
        }
    }

    @Test
    void aResultEndingInANewlineIsPrintedAsIs() throws IOException {
        try (ControlClient client = ControlClient.connect(socket)) {
            Output output = new Output();
            assertThat(client.run("test:lines", output.out, output.err)).isZero();
            assertThat(output.out()).isEqualTo("vif 1/0\nvbd 1/51712\n");
        }
    }

    @Test
    void aFailingCommandGivesStatusOneAndAOneLineMessage() throws IOException {
        try (ControlClient client = ControlClient.connect(socket)) {
            Output output = new Output();
            assertThat(client.run("test:fail 7", output.out, output.err)).isEqualTo(1);
            assertThat(output.err()).isEqualTo("no such domain: 7\n");
            Output unknown = new Output();
            assertThat(client.run("nosuch:command", unknown.out, unknown.err)).isEqualTo(1);
            assertThat(unknown.err()).contains("nosuch:command").doesNotContain("\tat ").hasLineCount(1);
        }
    }

    @Test
    void theConsoleRunsLineByLineAndExitsWithTheFailingStatusOrTheOneGiven() {
        Output script = new Output();
        int status = ShellMain.run(new String[] {"--state-dir", stateDir.toString()},
                stdin("test:say one\n\ntest:fail 9\ntest:say two\n"), script.out, script.err);
        assertThat(script.out()).isEqualTo("said one\nsaid two\n");
        assertThat(script.err()).isEqualTo("no such domain: 9\n");
        assertThat(status).as("a script with a failing line fails").isEqualTo(1);

        Output exit = new Output();
        assertThat(ShellMain.run(new String[] {"--state-dir", stateDir.toString()},
                stdin("test:fail 1\nexit 0\ntest:say never\n"), exit.out, exit.err)).isZero();
        assertThat(exit.out()).isEmpty();
        assertThat(ShellMain.run(new String[] {"--state-dir", stateDir.toString()}, stdin("  exit 4  \n"),
                new Output().out, new Output().err)).isEqualTo(4);
        assertThat(ShellMain.run(new String[] {"--state-dir", stateDir.toString()}, stdin("test:say x\nquit\n"),
                new Output().out, new Output().err)).isZero();
    }

    private static java.io.InputStream stdin(String text) {
        return new java.io.ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aClientSendingAnOversizedFrameIsDroppedAndOthersAreStillServed() throws IOException {
        try (SocketChannel rogue = SocketChannel.open(StandardProtocolFamily.UNIX);
             ControlClient client = ControlClient.connect(socket)) {
            rogue.connect(UnixDomainSocketAddress.of(socket));
            rogue.write(ByteBuffer.allocate(5).put(ControlProtocol.COMMAND).putInt(Integer.MAX_VALUE).flip());
            ControlProtocol.Frame why = ControlProtocol.read(rogue);
            assertThat(why.type()).isEqualTo(ControlProtocol.STDERR);
            assertThat(new String(why.payload(), StandardCharsets.UTF_8))
                    .startsWith("refused: control frame of 2147483647 bytes exceeds the limit").endsWith("closing the connection\n");
            assertThat(ControlProtocol.read(rogue).status()).isEqualTo(1);
            assertThat(ControlProtocol.read(rogue)).as("server closed the rogue connection").isNull();
            Output output = new Output();
            assertThat(client.run("test:say still-here", output.out, output.err)).isZero();
            assertThat(output.out()).isEqualTo("said still-here\n");
        }
    }

    @Test
    void oneConnectionKeepsItsSessionVariables() throws IOException {
        try (ControlClient client = ControlClient.connect(socket)) {
            Output output = new Output();
            assertThat(client.run("dom = 3", output.out, output.err)).isZero();
            assertThat(client.run("test:say $dom", output.out, output.err)).isZero();
            assertThat(output.out()).endsWith("said 3\n");
        }
    }

    @Test
    void socketIsPrivateToItsOwnerAndRemovedOnClose() throws IOException {
        assertThat(Files.getPosixFilePermissions(socket)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        server.close();
        assertThat(socket).doesNotExist();
        assertThatThrownBy(() -> ControlClient.connect(socket)).isInstanceOf(ControlClient.NoInstanceException.class);
    }

    @Test
    void aStaleSocketIsReplacedButALiveOneIsLeftAlone() throws IOException {
        assertThatThrownBy(() -> new ControlServer(socket, processor, silentLogger()))
                .hasMessageContaining("another Backplane instance is already listening on " + socket);
        server.close();
        Files.createFile(socket); // what a killed instance leaves behind
        server = new ControlServer(socket, processor, silentLogger());
        try (ControlClient client = ControlClient.connect(socket)) {
            assertThat(client.run("test:say again", new Output().out, new Output().err)).isZero();
        }
    }

    @Test
    void disconnectingInterruptsTheRunningCommand() throws Exception {
        ControlClient client = ControlClient.connect(socket);
        Output output = new Output();
        Thread running = new Thread(() -> {
            try {
                client.run("test:watch", output.out, output.err);
            } catch (IOException expected) {
                // the client closes underneath its own read
            }
        });
        running.start();
        assertThat(commands.watching.await(10, TimeUnit.SECONDS)).isTrue();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (output.out().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(10); // the streamed line is on its way to the client
        }
        assertThat(output.out()).as("output streamed while the command runs").isEqualTo("watching\n");
        client.close();
        assertThat(commands.interrupted.await(10, TimeUnit.SECONDS)).as("command interrupted").isTrue();
        running.join(10_000);
    }

    /** Sends one raw frame and collects the answer: stderr text and the status. */
    private static String[] rawCommand(SocketChannel ch, byte type, byte[] payload) throws IOException {
        ControlProtocol.write(ch, type, payload);
        StringBuilder err = new StringBuilder();
        StringBuilder out = new StringBuilder();
        while (true) {
            ControlProtocol.Frame f = ControlProtocol.read(ch);
            assertThat(f).as("an answer before the connection closes").isNotNull();
            switch (f.type()) {
                case ControlProtocol.STDERR -> err.append(new String(f.payload(), StandardCharsets.UTF_8));
                case ControlProtocol.STDOUT -> out.append(new String(f.payload(), StandardCharsets.UTF_8));
                case ControlProtocol.STATUS -> {
                    return new String[] {Integer.toString(f.status()), out.toString(), err.toString()};
                }
                default -> throw new AssertionError("unexpected frame type " + f.type());
            }
        }
    }

    @Test
    void everyMalformedCommandGetsAnErrorLineAndTheConnectionGoesOn() throws Exception {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            assertThat(rawCommand(ch, ControlProtocol.COMMAND, "test:say a\0b".getBytes(StandardCharsets.UTF_8)))
                    .containsExactly("1", "", "refused: the command holds a NUL byte at offset 10\n");
            assertThat(rawCommand(ch, ControlProtocol.COMMAND, new byte[] {0}))
                    .containsExactly("1", "", "refused: the command holds a NUL byte at offset 0\n");
            assertThat(rawCommand(ch, ControlProtocol.COMMAND, new byte[] {'t', 'e', (byte) 0xc3, '(', 'x'}))
                    .containsExactly("1", "", "refused: the command is not valid UTF-8\n");
            assertThat(rawCommand(ch, (byte) 'Z', "test:say x".getBytes(StandardCharsets.UTF_8)))
                    .containsExactly("1", "", "refused: frame type 90 is not a command ('C') or directory ('D')\n");
            String[] nested = rawCommand(ch, ControlProtocol.COMMAND,
                    ("test:say " + "(".repeat(20_000) + "x" + ")".repeat(20_000)).getBytes(StandardCharsets.UTF_8));
            assertThat(nested[0]).isEqualTo("1");
            assertThat(nested[2]).isNotEmpty().hasLineCount(1);
            assertThat(rawCommand(ch, ControlProtocol.COMMAND, new byte[0])[0]).isEqualTo("0");
            assertThat(rawCommand(ch, ControlProtocol.COMMAND, "test:say still-served".getBytes(StandardCharsets.UTF_8)))
                    .containsExactly("0", "said still-served\n", "");
        }
    }

    /** A burst of clients connecting at once: none is refused, each gets its answer. */
    @Test
    void hundredsOfClientsConnectingAtOnceAreAllServed() throws Exception {
        int n = 300; // more than the old backlog let in, and more than are read at once; 2 fds each
        java.util.List<SocketChannel> burst = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                burst.add(ch);
                ch.configureBlocking(false); // a full backlog fails at once (EAGAIN) instead of waiting
                assertThat(ch.connect(UnixDomainSocketAddress.of(socket))).as("client " + i + " connected").isTrue();
            }
            for (int i = 0; i < n; i++) {
                SocketChannel ch = burst.get(i);
                ch.configureBlocking(true);
                assertThat(rawCommand(ch, ControlProtocol.COMMAND, ("test:say " + i).getBytes(StandardCharsets.UTF_8)))
                        .containsExactly("0", "said " + i + "\n", "");
                ch.close(); // frees its place, so clients beyond the served maximum get their turn
            }
        } finally {
            for (SocketChannel ch : burst) {
                ch.close();
            }
        }
    }

    private static final class Output {
        final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
        final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
        final PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
        final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);

        String out() {
            return outBytes.toString(StandardCharsets.UTF_8);
        }

        String err() {
            return errBytes.toString(StandardCharsets.UTF_8);
        }
    }

    /** The server only logs through void methods; outside OSGi there is no log service to hand it. */
    private static Logger silentLogger() {
        return (Logger) Proxy.newProxyInstance(Logger.class.getClassLoader(), new Class<?>[] {Logger.class},
                (proxy, method, args) -> method.getReturnType() == boolean.class ? Boolean.FALSE : null);
    }
}
