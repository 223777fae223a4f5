package io.backplane.runtime;

import java.net.URISyntaxException;
import java.nio.file.Path;

import io.backplane.control.client.StateDirectory;

/**
 * Where the launcher finds its features, bundles and guest program and where the instance keeps
 * its state. Every default resolves against the install root ({@link #home}), never against the
 * working directory: a release has {@code lib/backplane-runtime.jar} under its root, a checkout
 * {@code runtime/target/backplane-runtime.jar}.
 *
 * @param etcDir configuration files ({@code *.cfg}) watched like the deploy directory; null for none
 */
record LaunchOptions(Path home, Path stateDir, Path featuresDir, Path bundlesDir, Path deployDir, Path etcDir,
                     Path guestJar, boolean standby) {

    /** The guest program's jar, as the runtime module's build and the release name it. */
    static final String GUEST_JAR = "guest/backplane-guest.jar";

    static final String USAGE = """
            usage: backplane run [--state-dir DIR] [--standby] [--features DIR] [--bundles DIR] [--deploy DIR] [--etc DIR]
              --state-dir DIR  sockets, log, framework cache, request mirrors (default /run/backplane
                               for root, else $XDG_RUNTIME_DIR/backplane or <tmp>/backplane-<user>)
              --standby        a hot standby for the instance serving on DIR (xen mode): runs on
                               DIR-standby (or DIR without -standby, whichever is free), comes fully
                               up, leaves every device to its live owner and adopts each the moment
                               the owner hands it over (SIGTERM) or dies (kill -9): the guests wait
                               for an adoption, not a JVM start. With no instance on DIR it just runs.
              --features DIR   the feature descriptors to run (default <home>/features)
              --bundles DIR    where their jars are (default <home>/bundles)
              --deploy DIR     hot deployment of bundles and *.cfg files (default <home>/deploy)
              --etc DIR        configuration files (*.cfg) applied and watched (default <home>/etc)
            Runs in the foreground until SIGTERM or Ctrl-C; tells systemd when it is ready (NOTIFY_SOCKET).
            Exit status: 0 after a clean stop, 1 when it cannot start, 2 on a usage error.""";

    /** The options asked for --help; not an error. */
    static final class HelpRequested extends RuntimeException {
        private static final long serialVersionUID = 1L;

        HelpRequested() {
            super(USAGE, null, false, false);
        }
    }

    static LaunchOptions parse(String[] args) {
        return parse(args, launcherJar());
    }

    static LaunchOptions parse(String[] args, Path launcherJar) {
        Layout layout = Layout.of(launcherJar);
        Path stateDir = null;
        boolean standby = false;
        Path features = layout.home().resolve("features");
        Path bundles = layout.bundles();
        Path deploy = layout.deploy();
        Path etc = layout.etc();
        for (int i = 0; i < args.length; i++) {
            String option = args[i];
            if (option.equals("--help") || option.equals("-h")) {
                throw new HelpRequested();
            }
            if (option.equals("--standby")) {
                standby = true;
                continue;
            }
            if (!java.util.Set.of("--state-dir", "--features", "--bundles", "--deploy", "--etc").contains(option)) {
                throw new IllegalArgumentException(option.startsWith("-") ? "unknown option " + option : "unknown argument " + option);
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(option + " needs a value");
            }
            Path value = Path.of(args[++i]);
            switch (option) {
                case "--state-dir" -> stateDir = value;
                case "--features" -> features = value;
                case "--bundles" -> bundles = value;
                case "--deploy" -> deploy = value;
                default -> etc = value;
            }
        }
        return new LaunchOptions(layout.home(), absolute(stateDir != null ? stateDir : StateDirectory.defaultDir()),
                absolute(features), absolute(bundles), absolute(deploy), etc == null ? null : absolute(etc),
                layout.guestJar(), standby);
    }

    /** The same options on another state directory (a standby's). */
    LaunchOptions withStateDir(Path dir) {
        return new LaunchOptions(home, dir, featuresDir, bundlesDir, deployDir, etcDir, guestJar, standby);
    }

    /** The state directory a standby pairs with {@code dir}: DIR-standby, or DIR itself without the suffix. */
    static Path standbyPartner(Path dir) {
        String name = dir.getFileName().toString();
        return dir.resolveSibling(name.endsWith(STANDBY_SUFFIX) && name.length() > STANDBY_SUFFIX.length()
                ? name.substring(0, name.length() - STANDBY_SUFFIX.length()) : name + STANDBY_SUFFIX);
    }

    static final String STANDBY_SUFFIX = "-standby";

    private static Path absolute(Path p) {
        return p.toAbsolutePath().normalize();
    }

    /**
     * The two places a launcher jar lives. A release: {@code <home>/lib/backplane-runtime.jar},
     * with bundles/, deploy/, etc/ and guest/ beside lib/. A checkout:
     * {@code <home>/runtime/target/backplane-runtime.jar}, bundles and guest jar under
     * runtime/target, hot deployment from runtime/deploy, no etc/.
     */
    record Layout(Path home, Path bundles, Path deploy, Path etc, Path guestJar) {
        static Layout of(Path launcherJar) {
            Path dir = launcherJar.toAbsolutePath().normalize().getParent();
            if (dir.getFileName() != null && dir.getFileName().toString().equals("lib")) {
                Path home = dir.getParent();
                return new Layout(home, home.resolve("bundles"), home.resolve("deploy"), home.resolve("etc"),
                        home.resolve(GUEST_JAR));
            }
            Path home = dir.getParent() != null && dir.getParent().getParent() != null ? dir.getParent().getParent() : dir;
            return new Layout(home, dir.resolve("bundles"), home.resolve("runtime").resolve("deploy"), null,
                    dir.resolve(GUEST_JAR));
        }
    }

    /** The jar the launcher was loaded from. */
    private static Path launcherJar() {
        try {
            return Path.of(Launcher.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException | SecurityException | NullPointerException e) {
            throw new IllegalStateException("cannot tell where the launcher jar is, so not where Backplane is installed", e);
        }
    }
}
