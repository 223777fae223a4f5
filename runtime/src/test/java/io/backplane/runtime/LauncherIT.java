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
import java.nio.file.attribute.FileTime;
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
import io.backplane.control.client.ShellMain;
import io.backplane.nativeio.NativeIo;
import io.backplane.nativeio.Posix;

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
            this(java.util.Map.of());
        }

        Instance(java.util.Map<String, String> environment) throws IOException {
            ProcessBuilder builder = new ProcessBuilder("java", "-jar", JAR.toString(), "--state-dir", stateDir.toString(),
                    "--features", FEATURES.toString(), "--deploy", deployDir.toString())
                    .redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            builder.environment().putAll(environment);
            process = builder.start();
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

    /**
     * As systemd runs it (Type=notify): READY=1 arrives on NOTIFY_SOCKET only once every command
     * the features' components declare is registered, and a script's {@code shell --wait} started
     * before the instance runs its command then; STOPPING=1 arrives on SIGTERM.
     */
    @Test
    void tellsSystemdItIsReadyOnlyOnceEveryCommandIsUpAndWhenItStops(@TempDir Path notifyDir) throws Exception {
        NativeIo io = new NativeIo();
        Path notifySocket = notifyDir.resolve("notify");
        int fd = io.socket(Posix.AF_UNIX, Posix.SOCK_DGRAM, 0);
        try {
            io.bind(fd, SystemdNotifier.address(notifySocket.toString()));
            ByteArrayOutputStream waitedOut = new ByteArrayOutputStream();
            ByteArrayOutputStream waitedErr = new ByteArrayOutputStream();
            java.util.concurrent.CompletableFuture<Integer> waited = java.util.concurrent.CompletableFuture.supplyAsync(() ->
                    ShellMain.run(new String[] {"--state-dir", stateDir.toString(), "--wait=120",
                            "xl:list"}, new java.io.ByteArrayInputStream(new byte[0]), new PrintStream(waitedOut, true),
                            new PrintStream(waitedErr, true)));

            // JOURNAL_STREAM says stdout is the journal, as systemd sets it for the service.
            Instance backplane = new Instance(java.util.Map.of("NOTIFY_SOCKET", notifySocket.toString(),
                    "JOURNAL_STREAM", "8:12345"));
            String ready = receive(io, fd);
            assertThat(ready).startsWith("READY=1\nSTATUS=Backplane running, state dir " + stateDir + ", ");
            try (ControlClient client = ControlClient.connect(stateDir.resolve("control.sock"))) {
                String help = run(client, "bp:help");
                java.util.Set<String> declared = declaredCommands();
                assertThat(declared).contains("xl:create", "pv:show", "xs:read", "sim:domains", "bp:ready");
                for (String command : declared) {
                    assertThat(help).as("bp:help at READY=1").containsPattern("(?m)^" + java.util.regex.Pattern.quote(command) + " ");
                }
            }
            assertThat(waited.get(120, TimeUnit.SECONDS)).as("shell --wait status (stderr: %s)", waitedErr).isZero();
            assertThat(waitedOut.toString(StandardCharsets.UTF_8)).contains("Domain-0");
            // The journal gets each log line once, with its priority and without a time of its own.
            assertThat(backplane.all).filteredOn(l -> l.contains("control socket listening on")).containsExactly(
                    "<6>INFO  control ControlSocket: control socket listening on " + stateDir.resolve("control.sock")
                            + " (backplane shell --state-dir " + stateDir + ")");
            assertThat(backplane.all).noneMatch(l -> l.matches("^(<\\d>)?\\d{4}-\\d\\d-\\d\\d .*"));

            backplane.process.toHandle().destroy(); // SIGTERM, as systemctl stop
            assertThat(receive(io, fd)).isEqualTo("STOPPING=1\nSTATUS=stopping bundles");
            assertThat(backplane.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
            // 143 (SIGTERM) after a clean stop, as for any JVM: the unit lists it in SuccessExitStatus.
            assertThat(backplane.process.exitValue()).isEqualTo(143);
            backplane.awaitLine(l -> l.equals("Backplane stopped"));
        } finally {
            io.close(fd);
        }
    }

    /** The next datagram on the notify socket, as systemd would read it. */
    private static String receive(NativeIo io, int fd) {
        java.nio.ByteBuffer scratch = java.nio.ByteBuffer.allocateDirect(8);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (io.poll(fd, Posix.POLLIN, 100, scratch) == 0) {
            if (System.nanoTime() - deadline >= 0) {
                throw new AssertionError("no notification within 120 s");
            }
        }
        java.nio.ByteBuffer message = java.nio.ByteBuffer.allocateDirect(4096);
        io.read(fd, message);
        byte[] bytes = new byte[message.flip().remaining()];
        message.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** Every scope:function the DS components in the features' bundles declare (their OSGI-INF XML). */
    private static java.util.Set<String> declaredCommands() throws Exception {
        java.util.Set<String> commands = new java.util.TreeSet<>();
        javax.xml.parsers.DocumentBuilderFactory xml = javax.xml.parsers.DocumentBuilderFactory.newInstance();
        xml.setNamespaceAware(true);
        for (FeatureSet.Bundle bundle : FeatureSet.load(FEATURES, new BundleLocator(JAR.getParent().resolve("bundles"),
                BundleLocator.defaultMavenRepository())).bundles()) {
            try (java.util.jar.JarFile jar = new java.util.jar.JarFile(bundle.jar().toFile())) {
                for (java.util.jar.JarEntry entry : java.util.Collections.list(jar.entries())) {
                    if (!entry.getName().startsWith("OSGI-INF/") || !entry.getName().endsWith(".xml")) {
                        continue;
                    }
                    org.w3c.dom.Document component = xml.newDocumentBuilder().parse(jar.getInputStream(entry));
                    org.w3c.dom.NodeList properties = component.getElementsByTagName("property");
                    String scope = null;
                    List<String> functions = new java.util.ArrayList<>();
                    for (int i = 0; i < properties.getLength(); i++) {
                        org.w3c.dom.Element p = (org.w3c.dom.Element) properties.item(i);
                        String value = p.hasAttribute("value") ? p.getAttribute("value") : p.getTextContent();
                        if (p.getAttribute("name").equals("osgi.command.scope")) {
                            scope = value.trim();
                        } else if (p.getAttribute("name").equals("osgi.command.function")) {
                            value.lines().map(String::trim).filter(l -> !l.isEmpty()).forEach(functions::add);
                        }
                    }
                    if (scope != null) {
                        String s = scope;
                        functions.forEach(f -> commands.add(s + ":" + f));
                    }
                }
            }
        }
        return commands;
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
     * the features and the deploy directory say. FileInstall only reads the operator's .cfg files:
     * a change made through ConfigAdmin lasts until the stop and leaves the file as written, which
     * applies again at the next start. (FileInstall's write-back, now off, rewrote the file in place
     * on every update; its own watcher sometimes read it half-written, applied the empty file and
     * wrote that back: the deployed settings were gone.)
     */
    @Test
    void aDeployedConfigurationFileIsNeverRewrittenAndAppliesAtEveryStart() throws Exception {
        Path log = stateDir.resolve("backplane.log");
        Path cfg = deployDir.resolve("io.backplane.logging.cfg");
        String written = "# quieter console\nconsole.level = WARN\n";
        Files.writeString(cfg, written);
        FileTime modified = Files.getLastModifiedTime(cfg);

        Instance first = new Instance();
        first.awaitLine(l -> l.startsWith("Backplane running"));
        awaitFile(log, text -> lastConsoleLevel(text).equals("WARN"));
        try (ControlClient client = ControlClient.connect(stateDir.resolve("control.sock"))) {
            setConsoleLevel(client, "ERROR");
        }
        awaitFile(log, text -> lastConsoleLevel(text).equals("ERROR"));
        stop(first);
        assertThat(Files.readString(cfg)).as("the operator's file, byte for byte").isEqualTo(written);
        assertThat(Files.getLastModifiedTime(cfg)).as("never rewritten").isEqualTo(modified);

        Instance second = new Instance();
        second.awaitLine(l -> l.startsWith("Backplane running"));
        awaitFile(log, text -> lastConsoleLevel(text).equals("WARN"));
        stop(second);
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
