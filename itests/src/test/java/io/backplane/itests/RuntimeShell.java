package io.backplane.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.fail;

import io.backplane.control.client.ControlClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;

/** The runtime's shell as an operator's {@code ./backplane shell} reaches it: the control socket in the state dir. */
final class RuntimeShell {
    private final Path stateDir;

    RuntimeShell(Path stateDir) {
        this.stateDir = stateDir;
    }

    /** What one command answered: its exit status, standard output and standard error. */
    record Answer(int status, String out, String err) {
    }

    Answer run(String command) throws IOException {
        try (ControlClient client = ControlClient.connect(ControlClient.socketIn(stateDir))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int status = client.run(command, out, err);
            return new Answer(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        }
    }

    /** Runs a command that must succeed; returns its output. */
    String ok(String command) throws IOException {
        Answer a = run(command);
        assertEquals(command + ": " + a.err(), 0, a.status());
        return a.out();
    }

    static void await(String what, long millis, BooleanSupplier condition) throws InterruptedException {
        long end = System.currentTimeMillis() + millis;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > end) {
                fail("timed out waiting for " + what);
            }
            Thread.sleep(50);
        }
    }
}
