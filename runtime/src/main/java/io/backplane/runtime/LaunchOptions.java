package io.backplane.runtime;

import java.net.URISyntaxException;
import java.nio.file.Path;

import io.backplane.control.client.StateDirectory;

/**
 * Where the launcher finds its features and bundles and where the instance keeps its state.
 * Defaults follow the source tree the launcher jar was built in ({@code runtime/target/}).
 */
record LaunchOptions(Path stateDir, Path featuresDir, Path bundlesDir, Path deployDir) {

    static final String USAGE = "usage: backplane run [--state-dir DIR] [--features DIR] [--bundles DIR] [--deploy DIR]";

    static LaunchOptions parse(String[] args) {
        Path runtimeTarget = launcherDir();
        Path repo = runtimeTarget.getParent() != null && runtimeTarget.getParent().getParent() != null
                ? runtimeTarget.getParent().getParent() : Path.of(".");
        Path stateDir = null;
        Path features = repo.resolve("features");
        Path bundles = runtimeTarget.resolve("bundles");
        Path deploy = repo.resolve("runtime").resolve("deploy");
        for (int i = 0; i < args.length; i++) {
            String option = args[i];
            if (option.equals("--help") || option.equals("-h")) {
                throw new IllegalArgumentException(USAGE);
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(option.startsWith("--") ? option + " needs a value; " + USAGE : USAGE);
            }
            Path value = Path.of(args[++i]);
            switch (option) {
                case "--state-dir" -> stateDir = value;
                case "--features" -> features = value;
                case "--bundles" -> bundles = value;
                case "--deploy" -> deploy = value;
                default -> throw new IllegalArgumentException("unknown option " + option + "; " + USAGE);
            }
        }
        return new LaunchOptions((stateDir != null ? stateDir : StateDirectory.defaultDir()).toAbsolutePath().normalize(),
                features.toAbsolutePath().normalize(), bundles.toAbsolutePath().normalize(),
                deploy.toAbsolutePath().normalize());
    }

    /** The directory holding the launcher jar (runtime/target), or the working directory. */
    private static Path launcherDir() {
        try {
            Path location = Path.of(Launcher.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return location.getParent() != null ? location.getParent() : Path.of(".");
        } catch (URISyntaxException | SecurityException | NullPointerException e) {
            return Path.of(".");
        }
    }
}
