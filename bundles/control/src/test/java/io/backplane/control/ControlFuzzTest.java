package io.backplane.control;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.apache.felix.gogo.runtime.CommandProcessorImpl;
import org.apache.felix.gogo.runtime.threadio.ThreadIOImpl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.service.log.Logger;

import io.backplane.control.client.ControlClient;
import io.backplane.control.client.ControlProtocol;

/**
 * A bounded fuzz run of the control socket: clients send random frames (wrong types, lying
 * lengths, NUL bytes, invalid UTF-8, random Gogo syntax) while a well-behaved client runs a
 * command over and over and must get the right answer within 2 s every time.
 */
class ControlFuzzTest {
    private static final long STEP_LIMIT_MS = 2000;
    private static final String[] TOKENS = {"test:say", "x", "(", ")", "{", "}", "[", "]", "$", "|", ";", "\"", "'",
        "\\", "=", "&", "#", "\0", "\u00e9", "nosuch:cmd", "each", "$args", "test:fail", "\n", " "};

    @TempDir
    Path stateDir;

    /** The commands the fuzzers can reach: quick ones only (a watch would just hold a thread). */
    public static class Commands {
        public String say(Object word) {
            return "said " + word;
        }

        public void fail(Object why) {
            throw new IllegalArgumentException("failed: " + why);
        }
    }

    @Test
    void fuzzedControlSocketKeepsServingAWellBehavedClient() throws Exception {
        ThreadIOImpl threadIO = new ThreadIOImpl();
        var out = System.out;
        var err = System.err;
        var in = System.in;
        threadIO.start();
        CommandProcessorImpl processor = new CommandProcessorImpl(threadIO);
        processor.addCommand("test", new Commands());
        Path socket = ControlClient.socketIn(stateDir);
        long seed = Long.getLong("fuzz.seed", System.nanoTime());
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        try (ControlServer server = new ControlServer(socket, processor, silentLogger())) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            List<Thread> fuzzers = new ArrayList<>();
            long[] frames = new long[3];
            for (int i = 0; i < frames.length; i++) {
                int n = i;
                Random random = new Random(seed + i);
                Thread t = new Thread(() -> frames[n] = fuzz(socket, random, deadline), "fuzz-control-" + i);
                t.setDaemon(true); // a fuzzer stuck on an unanswered frame must not keep the JVM alive
                fuzzers.add(t);
            }
            fuzzers.forEach(Thread::start);
            long rounds = 0;
            try (ControlClient client = ControlClient.connect(socket)) {
                while (System.nanoTime() < deadline && failures.size() < 10) {
                    ByteArrayOutputStream o = new ByteArrayOutputStream();
                    ByteArrayOutputStream e = new ByteArrayOutputStream();
                    long start = System.nanoTime();
                    int status = client.run("test:say ok-" + rounds, o, e);
                    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                    String got = o.toString(StandardCharsets.UTF_8);
                    if (status != 0 || !got.equals("said ok-" + rounds + "\n") || ms > STEP_LIMIT_MS) {
                        failures.add("round " + rounds + ": status " + status + ", '" + got + "', "
                                + e.toString(StandardCharsets.UTF_8) + ", " + ms + " ms");
                    }
                    rounds++;
                }
            }
            for (Thread t : fuzzers) {
                t.join(30_000);
                assertThat(t.isAlive()).as(t.getName() + " finished").isFalse();
            }
            assertThat(failures).as("seed " + seed).isEmpty();
            assertThat(rounds).isGreaterThan(20);
            assertThat(frames[0] + frames[1] + frames[2]).isGreaterThan(300);
        } finally {
            processor.stop();
            threadIO.stop();
            System.setOut(out);
            System.setErr(err);
            System.setIn(in);
        }
    }

    /** Connections of a few random frames each until the deadline; every answer is read and dropped. */
    private static long fuzz(Path socket, Random random, long deadline) {
        long sent = 0;
        while (System.nanoTime() < deadline) {
            try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                ch.connect(UnixDomainSocketAddress.of(socket));
                for (int i = 1 + random.nextInt(10); i > 0; i--) {
                    byte type = random.nextInt(8) == 0 ? (byte) random.nextInt() : ControlProtocol.COMMAND;
                    byte[] payload = payload(random);
                    int announced = switch (random.nextInt(30)) {
                        case 0 -> ControlProtocol.MAX_PAYLOAD + 1 + random.nextInt(1000);
                        case 1 -> payload.length + 1 + random.nextInt(10); // then hang up mid-frame
                        default -> payload.length;
                    };
                    ByteBuffer frame = ByteBuffer.allocate(5 + payload.length).put(type).putInt(announced).put(payload).flip();
                    while (frame.hasRemaining()) {
                        ch.write(frame);
                    }
                    sent++;
                    if (announced != payload.length) {
                        break;
                    }
                    if (!answered(ch)) {
                        break;
                    }
                }
            } catch (IOException e) {
                // the server hung up on a frame it could not skip
            }
        }
        return sent;
    }

    /** Reads to the status frame that ends every answer; false when the server closed instead. */
    private static boolean answered(SocketChannel ch) throws IOException {
        ControlProtocol.Frame f;
        while ((f = ControlProtocol.read(ch)) != null) {
            if (f.type() == ControlProtocol.STATUS) {
                return true;
            }
        }
        return false;
    }

    /**
     * A random command line. Never '<' or '>': Gogo redirects to files relative to the working
     * directory, and a fuzzer must not litter the checkout.
     */
    private static byte[] payload(Random random) {
        if (random.nextInt(6) == 0) {
            byte[] b = new byte[random.nextInt(200)];
            random.nextBytes(b);
            for (int i = 0; i < b.length; i++) {
                if (b[i] == '<' || b[i] == '>') {
                    b[i] = '?';
                }
            }
            return b;
        }
        StringBuilder s = new StringBuilder();
        for (int i = random.nextInt(12); i >= 0; i--) {
            s.append(TOKENS[random.nextInt(TOKENS.length)]).append(random.nextBoolean() ? " " : "");
        }
        return s.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static Logger silentLogger() {
        return (Logger) Proxy.newProxyInstance(Logger.class.getClassLoader(), new Class<?>[] {Logger.class},
                (proxy, method, args) -> method.getReturnType() == boolean.class ? Boolean.FALSE : null);
    }
}
