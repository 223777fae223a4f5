package io.backplane.blkback;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The guest program (GuestMain with its blkfronts) of one sim domain, as its own OS process. */
final class GuestProcess implements AutoCloseable {
    final Path log;
    private final Process process;

    GuestProcess(Path stateDir, int domid, String vbdOptions) throws IOException {
        this.log = stateDir.resolve("guest-" + domid + ".log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = List.of(java, "-cp", System.getProperty("java.class.path"),
                "io.backplane.guest.sim.GuestMain", "--state-dir", stateDir.toString(),
                "--domid", Integer.toString(domid), "--vbd", vbdOptions);
        this.process = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    boolean alive() {
        return process.isAlive();
    }

    String output() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no guest log: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }
}
