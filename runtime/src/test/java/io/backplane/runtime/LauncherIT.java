package io.backplane.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.backplane.control.client.ControlClient;

/**
 * The packaged launcher as an operator runs it: a separate JVM with stdin closed, talked to over
 * its control socket, stopped with SIGTERM.
 */
class LauncherIT {

    private static final Path JAR = Path.of(System.getProperty("backplane.runtime.jar", "target/backplane-runtime.jar"));
    private static final Path FEATURES = Path.of(System.getProperty("backplane.features", "../features"));

    @TempDir
    Path stateDir;
    @TempDir
    Path deployDir;

    private final List<Process> processes = new CopyOnWriteArrayList<>();

    /** A launched instance and the lines it printed so far. */
    private final class Instance {
        final Process process;
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        final List<String> all = new CopyOnWriteArrayList<>();

        Instance() throws IOException {
            process = new ProcessBuilder("java", "-jar", JAR.toString(), "--state-dir", stateDir.toString(),
                    "--features", FEATURES.toString(), "--deploy", deployDir.toString())
                    .redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            processes.add(process);
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = in.readLine()) != null; ) {
                        lines.add(line);
                        all.add(line);
                    }
                } catch (IOException ignored) {
                    // the process is gone; its lines so far are kept
                }
            });
            reader.setDaemon(true);
            reader.start();
        }

        String awaitLine(Predicate<String> wanted) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline) {
                String line = lines.poll(100, TimeUnit.MILLISECONDS);
                if (line != null && wanted.test(line)) {
                    return line;
                }
            }
            throw new AssertionError("no such line within 60 s; output was:\n" + String.join("\n", all));
        }
    }

    @AfterEach
    void killLeftovers() throws InterruptedException {
        for (Process process : processes) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void runsAsAServiceAnswersTheShellAndStopsCleanlyOnSigterm() throws Exception {
        Instance backplane = new Instance();
        String running = backplane.awaitLine(l -> l.startsWith("Backplane running"));
        int expected = FeatureSet.load(FEATURES, new BundleLocator(JAR.getParent().resolve("bundles"),
                BundleLocator.defaultMavenRepository())).bundles().size() + 1; // + the system bundle
        assertThat(running).startsWith("Backplane running, state dir " + stateDir + ", " + expected + " bundles active (");
        assertThat(backplane.all).noneMatch(l -> l.startsWith("warning"));

        Path socket = stateDir.resolve("control.sock");
        assertThat(Files.getPosixFilePermissions(socket)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(Files.getPosixFilePermissions(stateDir)).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        try (ControlClient client = ControlClient.connect(socket)) {
            assertThat(run(client, "bp:help")).contains("bp:status").contains("bp:bundles").contains("felix:lb");
            // Which components run is the itests' business; here: every bundle the features name is up.
            assertThat(run(client, "bp:status")).contains("state dir   " + stateDir)
                    .contains(expected + " active of " + expected);
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            assertThat(client.run("bp:nonsense", new ByteArrayOutputStream(), err)).isEqualTo(1);
            assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("Command not found: bp:nonsense\n");
        }
        assertThat(Files.readString(stateDir.resolve("backplane.log")))
                .contains("INFO  control ControlSocket: control socket listening on " + socket);

        backplane.process.toHandle().destroy(); // SIGTERM; Process.destroy() would also close our end of its stdout
        assertThat(backplane.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        backplane.awaitLine(l -> l.equals("Backplane stopped"));
        assertThat(socket).doesNotExist();
        assertThat(backplane.all).noneMatch(l -> l.contains("left behind"));
        assertThat(Files.readString(stateDir.resolve("backplane.log"))).contains("control socket " + socket + " closed and removed");
    }

    @Test
    void hotDeploysConfigurationsAndBundlesDroppedIntoTheDeployDirectory() throws Exception {
        Instance backplane = new Instance();
        backplane.awaitLine(l -> l.startsWith("Backplane running"));
        Path log = stateDir.resolve("backplane.log");

        // A configuration file applies live: the console now shows warnings only.
        Files.writeString(deployDir.resolve("io.backplane.logging.cfg"), "console.level = WARN\n");
        awaitFile(log, text -> text.contains("operator log now " + log + " (file level INFO, console level WARN)"));

        // Any bundle the features do not install will do: the converter is one of the launcher's own jars.
        Path jar = Files.list(JAR.getParent().resolve("lib")).filter(p -> p.getFileName().toString().startsWith("org.osgi.util.converter"))
                .findFirst().orElseThrow();
        try (ControlClient client = ControlClient.connect(stateDir.resolve("control.sock"))) {
            assertThat(run(client, "bp:bundles")).doesNotContain("org.osgi.util.converter");
            Files.copy(jar, deployDir.resolve(jar.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            awaitOutput(client, "bp:bundles", out -> out.matches("(?s).*ACTIVE +\\d+ +org\\.osgi\\.util\\.converter .*"));
            Files.delete(deployDir.resolve(jar.getFileName()));
            awaitOutput(client, "bp:bundles", out -> !out.contains("org.osgi.util.converter"));
        }
        // FileInstall logged the deployment at INFO: in the file, no longer on the console.
        awaitFile(log, text -> text.contains("org.osgi.util.converter"));
        assertThat(backplane.all).noneMatch(l -> l.contains("org.osgi.util.converter"));
        assertThat(Files.readString(log).split("operator log " + log + " opened", -1)).as("history written once").hasSize(2);
    }

    /**
     * The launcher starts from a clean framework cache, so the configurations in force are what
     * the features and runtime/deploy say: a change made through ConfigAdmin lasts until the stop,
     * unless the configuration comes from a .cfg file, which FileInstall then rewrites.
     */
    @Test
    void aConfigurationChangeIsWrittenBackToItsDeployFileAndOneWithoutAFileIsGoneAfterARestart() throws Exception {
        Path log = stateDir.resolve("backplane.log");
        Path socket = stateDir.resolve("control.sock");
        Instance first = new Instance();
        first.awaitLine(l -> l.startsWith("Backplane running"));
        try (ControlClient client = ControlClient.connect(socket)) {
            setConsoleLevel(client, "WARN");
        }
        awaitFile(log, text -> lastConsoleLevel(text).equals("WARN"));
        stop(first);

        Instance second = new Instance();
        second.awaitLine(l -> l.startsWith("Backplane running"));
        assertThat(lastConsoleLevel(Files.readString(log))).as("a change with no file is gone after a restart").isEqualTo("INFO");
        Path cfg = deployDir.resolve("io.backplane.logging.cfg");
        Files.writeString(cfg, "console.level = WARN\n");
        awaitFile(log, text -> lastConsoleLevel(text).equals("WARN"));
        try (ControlClient client = ControlClient.connect(socket)) {
            setConsoleLevel(client, "ERROR");
        }
        awaitFile(cfg, text -> text.contains("console.level = ERROR"));
        stop(second);
        // Not asserted: that a third start applies the rewritten file. It did in most runs and
        // not in about one of three (FileInstall left the file unapplied); see the README.
    }

    /** What an operator types in the console: ConfigurationAdmin's own cm: commands. */
    private static void setConsoleLevel(ControlClient client, String level) throws IOException {
        run(client, "c = cm:getConfiguration io.backplane.logging \"?\"");
        run(client, "d = $c properties");
        run(client, "$d put console.level " + level);
        run(client, "$c update $d");
    }

    private static String lastConsoleLevel(String logText) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("operator log (?:now|\\S+ opened for state dir) .*console level (\\w+)\\)").matcher(logText);
        String level = "";
        while (m.find()) {
            level = m.group(1);
        }
        return level;
    }

    private static void stop(Instance instance) throws InterruptedException {
        instance.process.toHandle().destroy(); // SIGTERM
        assertThat(instance.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        instance.awaitLine(l -> l.equals("Backplane stopped"));
    }

    @Test
    void refusesASecondInstanceOnTheSameStateDirButReplacesAStaleSocket() throws Exception {
        Path socket = stateDir.resolve("control.sock");
        try (ServerSocketChannel crashed = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            crashed.bind(UnixDomainSocketAddress.of(socket)); // what a killed instance leaves: a socket file nobody serves
        }
        assertThat(socket).exists();
        Instance first = new Instance();
        first.awaitLine(l -> l.startsWith("Backplane running"));

        Instance second = new Instance();
        assertThat(second.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(second.process.exitValue()).isEqualTo(1);
        second.awaitLine(l -> l.equals("Backplane failed to start: Backplane is already running with state dir " + stateDir
                + " (stop it first, or pick another --state-dir)"));
        try (ControlClient client = ControlClient.connect(socket)) {
            assertThat(run(client, "bp:status")).contains("state dir   " + stateDir);
        }
    }

    private static String run(ControlClient client, String command) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = client.run(command, new PrintStream(out), new PrintStream(err));
        assertThat(status).as("status of %s (stderr: %s)", command, err).isZero();
        return out.toString(StandardCharsets.UTF_8);
    }

    private static void awaitFile(Path file, Predicate<String> wanted) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (Files.exists(file) && wanted.test(Files.readString(file))) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError(file + " never had the expected content; it has:\n" + Files.readString(file));
    }

    private static void awaitOutput(ControlClient client, String command, Predicate<String> wanted) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        String out = "";
        while (System.nanoTime() < deadline) {
            out = run(client, command);
            if (wanted.test(out)) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError(command + " never gave the expected output; last:\n" + out);
    }
}
