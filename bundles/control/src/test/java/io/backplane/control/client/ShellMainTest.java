package io.backplane.control.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShellMainTest {

    @TempDir
    Path stateDir;

    @Test
    void saysClearlyWhenNoInstanceRuns() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = ShellMain.run(new String[] {"--state-dir", stateDir.toString(), "bp:help"},
                new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(status).isEqualTo(ShellMain.NO_INSTANCE);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("no Backplane instance is running with state dir " + stateDir)
                .contains("backplane run --state-dir " + stateDir).hasLineCount(1);
    }

    @Test
    void helpPrintsTheUsageAndSucceeds() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertThat(ShellMain.run(new String[] {"--help"}, new PrintStream(out, true, StandardCharsets.UTF_8), System.err)).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).startsWith("usage: backplane shell [--state-dir DIR] [--wait[=SECONDS]]");
    }

    @Test
    void waitGivesUpAfterItsTimeoutSayingWhatItWaitedFor() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = ShellMain.run(new String[] {"--state-dir", stateDir.toString(), "--wait=0", "bp:help"},
                new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(status).isEqualTo(ShellMain.NO_INSTANCE);
        assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("backplane shell: Backplane at " + stateDir
                + " is not ready after 0 s: nothing listens on " + stateDir.resolve("control.sock") + "\n");
        assertThat(ShellMain.run(new String[] {"--wait=soon"}, System.out, new PrintStream(err, true, StandardCharsets.UTF_8)))
                .isEqualTo(ShellMain.USAGE);
    }

    @Test
    void rejectsUnknownOptions() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertThat(ShellMain.run(new String[] {"--bogus"}, System.out, new PrintStream(err, true, StandardCharsets.UTF_8)))
                .isEqualTo(ShellMain.USAGE);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("unknown option --bogus");
    }

    @Test
    void defaultStateDirFollowsTheUserAndTheRuntimeDir(@TempDir Path xdg) {
        assertThat(StateDirectory.defaultDir(true, Map.of("XDG_RUNTIME_DIR", xdg.toString()), "/tmp", "root"))
                .isEqualTo(Path.of("/run/backplane"));
        assertThat(StateDirectory.defaultDir(false, Map.of("XDG_RUNTIME_DIR", xdg.toString()), "/tmp", "ann"))
                .isEqualTo(xdg.resolve("backplane"));
        assertThat(StateDirectory.defaultDir(false, Map.of(), "/tmp", "ann")).isEqualTo(Path.of("/tmp/backplane-ann"));
    }
}
