package io.backplane.hypervisor.sim;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A guest as a separate OS process, its output kept in a file for the assertion messages. */
final class GuestProcess implements AutoCloseable {
    final Process process;
    final Path log;

    private GuestProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /** A JVM running {@code mainClass} on this test's classpath. */
    static GuestProcess java(Path logDir, Class<?> mainClass, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass.getName());
        cmd.addAll(List.of(args));
        return start(logDir, mainClass.getSimpleName(), cmd);
    }

    static GuestProcess start(Path logDir, String name, List<String> cmd) throws IOException {
        Path log = Files.createTempFile(logDir, name, ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new GuestProcess(p, log);
    }

    int waitFor(long seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("guest process still running after " + seconds + " s:\n" + output());
        }
        return process.exitValue();
    }

    String output() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no output: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
        }
    }
}
