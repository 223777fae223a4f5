package io.backplane.runtime;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import io.backplane.control.client.ControlClient;

/**
 * {@code backplane run}: starts Backplane in the foreground. It never reads stdin, so it runs the
 * same from a terminal, a pipe or a service manager; SIGTERM or Ctrl-C stop every bundle cleanly.
 * Operators talk to it through {@code backplane shell}, over {@code <state dir>/control.sock}.
 * Under systemd ({@code Type=notify}) it sends READY=1 once it is ready (see {@link Readiness})
 * and STOPPING=1 when it begins to stop.
 * Exit status: 0 after a clean stop, 1 when it cannot start, 2 on a usage error.
 */
public final class Launcher {

    /** How long a start waits for every component before it reports ready anyway, with what is missing. */
    static final java.time.Duration READY_TIMEOUT = java.time.Duration.ofSeconds(60);

    private Launcher() {
    }

    public static void main(String[] args) {
        PrintStream out = JournalConsole.of(System.out, System.getenv());
        LaunchOptions options;
        try {
            options = LaunchOptions.parse(args);
        } catch (LaunchOptions.HelpRequested help) {
            out.println(LaunchOptions.USAGE);
            System.exit(0);
            return;
        } catch (IllegalArgumentException e) {
            System.err.println("backplane run: " + e.getMessage());
            System.err.println(LaunchOptions.USAGE);
            System.exit(2);
            return;
        }
        long begin = System.nanoTime();
        SystemdNotifier systemd = SystemdNotifier.fromEnvironment(System.getenv());
        BackplaneFramework backplane = null;
        try {
            if (options.standby()) {
                options = options.withStateDir(standbyStateDir(options.stateDir(), out));
            }
            prepareStateDir(options.stateDir(), out);
            out.println("Backplane starting from " + options.home() + ": state dir " + options.stateDir() + ", features "
                    + options.featuresDir() + ", hot deploy " + options.deployDir()
                    + (options.etcDir() != null && Files.isDirectory(options.etcDir()) ? ", configuration " + options.etcDir() : ""));
            RuntimeFeatures runtimeFeatures = new RuntimeFeatures(options.featuresDir(), options.stateDir(),
                    new BundleLocator(options.bundlesDir(), BundleLocator.defaultMavenRepository()));
            FeatureSet features = runtimeFeatures.startSet(out);
            backplane = new BackplaneFramework(options, features, out, systemd);
            Runtime.getRuntime().addShutdownHook(new Thread(backplane::shutdown, "backplane-shutdown"));
            backplane.start();
            backplane.serveFeatureCommands(runtimeFeatures);
            List<String> problems = new java.util.ArrayList<>(backplane.problems());
            String notReady = Readiness.await(options.stateDir(), Readiness.embeddedXenStore(features), READY_TIMEOUT);
            if (notReady != null) {
                problems.add(notReady);
            }
            problems.forEach(p -> out.println("warning: " + p));
            String running = String.format("Backplane running, state dir %s, %d bundles active%s (%.1f s)",
                    options.stateDir(), backplane.activeBundles(),
                    problems.isEmpty() ? "" : ", " + problems.size() + " problem" + (problems.size() == 1 ? "" : "s"),
                    (System.nanoTime() - begin) / 1e9);
            out.printf("%s. Shell: backplane shell --state-dir %s; stop with Ctrl-C or SIGTERM.%n", running, options.stateDir());
            String unheard = systemd.send("READY=1", "STATUS=" + running);
            if (unheard != null) {
                out.println("warning: " + unheard);
            }
            backplane.awaitStop();
        } catch (Exception e) {
            System.err.println("Backplane failed to start: " + BackplaneFramework.oneLine(e));
            if (backplane != null) {
                backplane.shutdown();
            }
            System.exit(1);
        }
        // Stopped from inside (for example "stop 0" in the shell) rather than by a signal.
        backplane.shutdown();
        System.exit(0);
    }

    /**
     * A standby runs beside the serving instance, on the other of DIR and its partner
     * ({@link LaunchOptions#standbyPartner}); with neither in use it is simply the serving one.
     */
    static Path standbyStateDir(Path dir, PrintStream out) throws IOException {
        Path partner = LaunchOptions.standbyPartner(dir);
        Path serving = running(dir) ? dir : running(partner) ? partner : null;
        if (serving == null) {
            out.println("Backplane --standby: no instance runs on " + dir + " or " + partner + "; starting as the serving one on " + dir);
            return dir;
        }
        Path mine = serving.equals(dir) ? partner : dir;
        if (running(mine)) {
            throw new IOException("--standby: instances already run on both " + dir + " and " + partner);
        }
        out.println("Backplane --standby: the instance on " + serving + " serves; this one, on " + mine
                + ", adopts each of its devices the moment it hands it over (SIGTERM) or dies");
        return mine;
    }

    /** What the control socket in a state directory says. */
    private enum Instance { NONE, RUNNING, STALE }

    /**
     * Probes the control socket in {@code stateDir}: none, an instance answering, or a stale socket
     * a killed instance left. Any other I/O error (permission denied on the socket, say) propagates:
     * whether an instance runs there is then unknown.
     */
    private static Instance instanceOn(Path stateDir) throws IOException {
        Path socket = ControlClient.socketIn(stateDir);
        if (!Files.exists(socket)) {
            return Instance.NONE;
        }
        try (ControlClient live = ControlClient.connect(socket)) {
            return Instance.RUNNING;
        } catch (ControlClient.NoInstanceException stale) {
            return Instance.STALE;
        }
    }

    /** For the standby: a directory whose socket cannot be probed is not one an instance serves from. */
    private static boolean running(Path stateDir) {
        try {
            return instanceOn(stateDir) == Instance.RUNNING;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Creates the state directory private to its owner (it holds the control socket), refuses to
     * start a second instance on the same directory, and cleans up after one that was killed. Any
     * other I/O error on the socket fails the start: it might belong to an instance still running.
     */
    static void prepareStateDir(Path stateDir, PrintStream out) throws IOException {
        Files.createDirectories(stateDir);
        Files.setPosixFilePermissions(stateDir, PosixFilePermissions.fromString("rwx------"));
        switch (instanceOn(stateDir)) {
            case RUNNING -> throw new IOException("Backplane is already running with state dir " + stateDir
                    + " (stop it first, or pick another --state-dir)");
            case STALE -> {
                // Left by an instance that was killed: what else it left goes too (the sim hypervisor
                // removes its domain directories and says so in backplane.log).
                out.println("Backplane did not stop cleanly last time with state dir " + stateDir + "; cleaning up");
                BackplaneFramework.removeSockets(stateDir, out, "left by the instance that did not stop");
            }
            case NONE -> { }
        }
    }
}
