package io.backplane.hypervisor.sim.abi;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code backplane/sim_guest.h}: this ABI for frontends in C (the event channel socket's messages
 * and stream, the memory and grant table files, XenStore on the domain's socket, ring.h's
 * barriers), shipped in this bundle. A test or benchmark that builds a C frontend with gcc copies
 * it out with {@link #copyTo} and passes the directory with {@code -I}.
 */
public final class SimGuestHeader {
    /** How a C frontend includes it: {@code #include "backplane/sim_guest.h"}. */
    public static final String INCLUDE = "backplane/sim_guest.h";
    private static final String RESOURCE = "/io/backplane/hypervisor/sim/abi/c/" + INCLUDE;

    private SimGuestHeader() {
    }

    /** Writes {@code <includeDir>/backplane/sim_guest.h} and returns it. */
    public static Path copyTo(Path includeDir) throws IOException {
        Path to = includeDir.resolve(INCLUDE);
        try (InputStream in = SimGuestHeader.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IOException(RESOURCE + " is missing from the sim-abi jar");
            }
            Files.createDirectories(to.getParent());
            Files.write(to, in.readAllBytes());
        }
        return to;
    }
}
