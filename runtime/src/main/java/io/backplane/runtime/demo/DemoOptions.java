package io.backplane.runtime.demo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What {@code ./backplane demo} runs against: the source tree, a fresh state directory, how long traffic runs. */
record DemoOptions(Path repo, Path stateDir, int trafficSeconds) {

    static final String USAGE = "usage: backplane demo [--seconds N] [--state-dir DIR]";

    static DemoOptions parse(String[] args, Path repo) {
        Path stateDir = null;
        int seconds = 3;
        for (int i = 0; i < args.length; i++) {
            String option = args[i];
            if (option.equals("--help") || option.equals("-h")) {
                throw new IllegalArgumentException(USAGE + "\n  --seconds N     traffic before and after the live change"
                        + " (default 3)\n  --state-dir DIR where the runtime keeps its sockets and logs (default: a new temp dir)");
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(option + " needs a value; " + USAGE);
            }
            String value = args[++i];
            switch (option) {
                case "--seconds" -> {
                    try {
                        seconds = Integer.parseInt(value);
                    } catch (NumberFormatException e) {
                        seconds = -1;
                    }
                    if (seconds < 1 || seconds > 60) {
                        throw new IllegalArgumentException("--seconds wants a number from 1 to 60, not '" + value + "'");
                    }
                }
                case "--state-dir" -> stateDir = Path.of(value).toAbsolutePath();
                default -> throw new IllegalArgumentException("unknown option " + option + "; " + USAGE);
            }
        }
        try {
            if (stateDir == null) {
                stateDir = Files.createTempDirectory("backplane-demo-");
            } else if (Files.isDirectory(stateDir)) {
                try (var entries = Files.list(stateDir)) {
                    if (entries.findAny().isPresent()) {
                        throw new IllegalArgumentException("--state-dir " + stateDir + " is not empty; the demo wants a fresh one");
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new DemoOptions(repo.toAbsolutePath().normalize(), stateDir, seconds);
    }

    Path runtimeJar() {
        return repo.resolve("runtime/target/backplane-runtime.jar");
    }

    Path config() {
        return repo.resolve("examples/demo.cfg");
    }

    /** The image demo.cfg names (target=demo-disk.img, next to the config). */
    Path diskImage() {
        return repo.resolve("examples/demo-disk.img");
    }
}
