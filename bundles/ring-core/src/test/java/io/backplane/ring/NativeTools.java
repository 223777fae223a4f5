package io.backplane.ring;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Builds the test's C programs with gcc against Xen's public headers, failing with a message
 * that names the missing package rather than a stack trace from deep inside a process call.
 */
public final class NativeTools {

    private static final Path XEN_RING_H = Path.of("/usr/include/xen/io/ring.h");

    private NativeTools() {
    }

    /** The module's src/test/c directory (surefire runs with the module as working directory). */
    public static Path sourceDir() {
        return Path.of(System.getProperty("basedir", ".")).resolve("src/test/c").toAbsolutePath();
    }

    /** src/main/c: the ring.h peers the jar ships for benchmarks (netfront_tx.c, netback_tx.c). */
    public static Path peerSourceDir() {
        return Path.of(System.getProperty("basedir", ".")).resolve("src/main/c").toAbsolutePath();
    }

    /** Where compiled test programs go. */
    public static Path buildDir() throws IOException {
        return Files.createDirectories(Path.of(System.getProperty("basedir", ".")).resolve("target/test-c").toAbsolutePath());
    }

    /**
     * Compiles {@code <source>} (plus any further sources) of src/test/c or src/main/c into
     * {@code target/test-c/<name>} with -O2 and returns the executable.
     */
    public static Path compile(String name, String... sources) throws IOException, InterruptedException {
        if (!Files.exists(XEN_RING_H)) {
            throw new AssertionError("Xen's public headers are missing (" + XEN_RING_H
                    + "): install them with `apt-get install libxen-dev`");
        }
        Path out = buildDir().resolve(name);
        List<String> cmd = new ArrayList<>(List.of("gcc", "-O2", "-Wall", "-Werror", "-std=gnu11",
                "-D__XEN_INTERFACE_VERSION__=__XEN_LATEST_INTERFACE_VERSION__", "-I", peerSourceDir().toString(),
                "-o", out.toString()));
        for (String source : sources) {
            Path test = sourceDir().resolve(source);
            cmd.add((Files.exists(test) ? test : peerSourceDir().resolve(source)).toString());
        }
        Process gcc;
        try {
            gcc = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("gcc is not installed or not on PATH: install it with `apt-get install gcc` ("
                    + e.getMessage() + ")");
        }
        String output = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!gcc.waitFor(120, TimeUnit.SECONDS) || gcc.exitValue() != 0) {
            throw new AssertionError("gcc failed to build " + String.join(" ", sources) + ":\n" + output);
        }
        return out;
    }

    /** Runs a program to completion and returns its standard output; fails on a non-zero exit. */
    public static String run(Path program, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(program.toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(program.getFileName() + " did not finish in 120 s");
        }
        if (p.exitValue() != 0) {
            throw new AssertionError(program.getFileName() + " exited with " + p.exitValue() + ":\n" + output);
        }
        return output;
    }
}
