package io.backplane.xenstore.wire;

import io.backplane.api.log.OperatorLog;
import io.backplane.xenstore.store.Quotas;
import io.backplane.xenstore.store.Store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/** A store and daemon on a temporary state directory, and a way to run Xen's tools against it. */
final class DaemonFixture implements AutoCloseable {
    final Path stateDir;
    final Store store;
    final XenStoreDaemon daemon;

    DaemonFixture() throws IOException {
        stateDir = Files.createTempDirectory("xs-test");
        store = new Store(Quotas.XEN_4_17);
        daemon = new XenStoreDaemon(store, stateDir, OperatorLog.stderrWarnings("xenstored"));
        daemon.start();
    }

    Path socket() {
        return daemon.dom0Socket();
    }

    record Result(int exit, String out, String err) {
    }

    static void requireTool(String tool, String debianPackage) {
        if (!Files.isExecutable(Path.of(tool))) {
            fail(tool + " is missing: install the Debian package " + debianPackage + " (apt-get install " + debianPackage + ")");
        }
    }

    /** Runs a command with XENSTORED_RUNDIR pointing at this daemon; stdin closed. */
    Result run(String... command) throws IOException, InterruptedException {
        return run(List.of(command), null);
    }

    Result run(List<String> command, Path socketOverride) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("XENSTORED_RUNDIR", socket().getParent().toString());
        if (socketOverride != null) {
            pb.environment().put("XENSTORED_PATH", socketOverride.toString());
        }
        pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process p = pb.start();
        byte[][] streams = new byte[2][];
        Thread errReader = new Thread(() -> {
            try {
                streams[1] = p.getErrorStream().readAllBytes();
            } catch (IOException e) {
                streams[1] = new byte[0];
            }
        });
        errReader.start();
        streams[0] = p.getInputStream().readAllBytes();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("timed out: " + command);
        }
        errReader.join();
        return new Result(p.exitValue(), new String(streams[0], StandardCharsets.UTF_8),
                new String(streams[1], StandardCharsets.UTF_8));
    }

    @Override
    public void close() throws IOException {
        daemon.close();
        List<Path> all = new ArrayList<>();
        try (var s = Files.walk(stateDir)) {
            s.forEach(all::add);
        }
        for (int i = all.size() - 1; i >= 0; i--) {
            Files.deleteIfExists(all.get(i));
        }
    }
}
