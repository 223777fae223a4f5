package io.backplane.bench;

import io.backplane.hypervisor.sim.abi.SimGuestHeader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The C peers the bundles ship (ring-core's io/backplane/ring/c: netfront_tx.c, netback_tx.c on
 * Xen's own macros, the layout peers on ring_layouts.h; netback's netfront_pages.c, a sim guest
 * on sim-abi's sim_guest.h), copied out of the class path into a work directory and built there
 * with gcc against /usr/include/xen, the same way on every machine the benchmark runs on.
 */
final class RingPeers {
    private static final String RESOURCES = "/io/backplane/ring/c/";
    private static final String[] FILES = {"netfront_tx.c", "netback_tx.c", "tx_pattern.h", "xen_ring_env.h",
        "netfront_layouts.c", "netback_layouts.c", "netback_cost.c", "ring_wait.h", "ring_peer.h", "backplane/ring_layouts.h"};
    private static final Path XEN_RING_H = Path.of("/usr/include/xen/io/ring.h");

    private final Path dir;

    RingPeers(Path dir) {
        this.dir = dir;
    }

    /** Builds ring-core's {@code <name>.c} into {@code <dir>/<name>} with -O2 and returns the executable. */
    Path build(String name) throws IOException, InterruptedException, BenchUnavailable {
        return build(null, name);
    }

    /**
     * Builds {@code <name>.c} from the class-path directory {@code resources} (ring-core's when
     * null), with ring-core's headers on the include path, linked with {@code libs}.
     */
    Path build(String resources, String name, String... libs) throws IOException, InterruptedException, BenchUnavailable {
        if (!Files.exists(XEN_RING_H)) {
            throw new BenchUnavailable("Xen's public headers are missing (" + XEN_RING_H
                    + "): install them with `apt-get install libxen-dev`");
        }
        for (String f : FILES) {
            copy(RESOURCES + f, dir.resolve(f));
        }
        SimGuestHeader.copyTo(dir);
        if (resources != null) {
            copy(resources + name + ".c", dir.resolve(name + ".c"));
        }
        Path out = dir.resolve(name);
        List<String> cmd = new ArrayList<>(List.of("gcc", "-O2", "-Wall", "-std=gnu11",
                "-D__XEN_INTERFACE_VERSION__=__XEN_LATEST_INTERFACE_VERSION__", "-I", dir.toString(), "-o", out.toString(),
                dir.resolve(name + ".c").toString()));
        for (String lib : libs) {
            cmd.add("-l" + lib);
        }
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

    private static void copy(String resource, Path to) throws IOException {
        try (InputStream in = RingPeers.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException(resource + " is not on the class path (are the bundles in bundles/bench/target/lib?)");
            }
            Files.createDirectories(to.getParent());
            Files.write(to, in.readAllBytes());
        }
    }
}
