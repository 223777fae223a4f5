package io.backplane.control.client;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Where a Backplane instance keeps its sockets, log and framework cache when the operator names
 * no directory: {@code /run/backplane} for root (like xenstored's /run/xenstored), otherwise
 * {@code $XDG_RUNTIME_DIR/backplane}, otherwise {@code <tmp>/backplane-<user>}. The launcher and
 * the shell client use this one rule, so both find the same instance.
 */
public final class StateDirectory {

    private StateDirectory() {
    }

    public static Path defaultDir() {
        return defaultDir(isRoot(), System.getenv(), System.getProperty("java.io.tmpdir"), System.getProperty("user.name"));
    }

    static Path defaultDir(boolean root, Map<String, String> env, String tmp, String user) {
        if (root) {
            return Path.of("/run/backplane");
        }
        String runtimeDir = env.get("XDG_RUNTIME_DIR");
        if (runtimeDir != null && !runtimeDir.isBlank() && Files.isDirectory(Path.of(runtimeDir))) {
            return Path.of(runtimeDir, "backplane");
        }
        return Path.of(tmp, "backplane-" + user);
    }

    private static boolean isRoot() {
        try {
            return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        } catch (IOException | UnsupportedOperationException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }
}
