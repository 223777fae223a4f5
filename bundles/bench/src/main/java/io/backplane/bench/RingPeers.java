package io.backplane.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The ring.h C peers ring-core ships (io/backplane/ring/c: netfront_tx.c, netback_tx.c on Xen's
 * own macros), copied out of the class path into a work directory and built there with gcc
 * against /usr/include/xen, the same way on every machine the benchmark runs on.
 */
final class RingPeers {
    private static final String RESOURCES = "/io/backplane/ring/c/";
    private static final String[] FILES = {"netfront_tx.c", "netback_tx.c", "tx_pattern.h", "xen_ring_env.h",
        "netfront_layouts.c", "netback_layouts.c", "netback_cost.c", "ring_wait.h", "backplane/ring_layouts.h"};
    private static final Path XEN_RING_H = Path.of("/usr/include/xen/io/ring.h");

    private final Path dir;

    RingPeers(Path dir) {
        this.dir = dir;
    }

    /** Builds {@code <name>.c} into {@code <dir>/<name>} with -O2 and returns the executable. */
    Path build(String name) throws IOException, InterruptedException, BenchUnavailable {
        if (!Files.exists(XEN_RING_H)) {
            throw new BenchUnavailable("Xen's public headers are missing (" + XEN_RING_H
                    + "): install them with `apt-get install libxen-dev`");
        }
        for (String f : FILES) {
            try (InputStream in = RingPeers.class.getResourceAsStream(RESOURCES + f)) {
                if (in == null) {
                    throw new IOException(RESOURCES + f + " is not on the class path (is backplane-ring-core in bundles/bench/target/lib?)");
                }
                Files.createDirectories(dir.resolve(f).getParent());
                Files.write(dir.resolve(f), in.readAllBytes());
            }
        }
        Path out = dir.resolve(name);
        List<String> cmd = new ArrayList<>(List.of("gcc", "-O2", "-Wall", "-std=gnu11",
                "-D__XEN_INTERFACE_VERSION__=__XEN_LATEST_INTERFACE_VERSION__", "-I", dir.toString(), "-o", out.toString(),
                dir.resolve(name + ".c").toString()));
        Process gcc;
        try {
            gcc = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new BenchUnavailable("gcc is not installed or not on PATH: install it with `apt-get install gcc`");
        }
        String output = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!gcc.waitFor(120, TimeUnit.SECONDS) || gcc.exitValue() != 0) {
            throw new IOException("gcc failed to build " + name + ".c:\n" + output);
        }
        return out;
    }
}
