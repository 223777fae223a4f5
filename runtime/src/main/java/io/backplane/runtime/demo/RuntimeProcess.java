package io.backplane.runtime.demo;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * The Backplane runtime the demo starts: {@code java -jar backplane-runtime.jar} in its own JVM,
 * exactly as {@code ./backplane run} starts it, with its console copied to {@code runtime.out} in
 * the state directory. Stopped with SIGTERM, as an operator or a service manager stops it.
 */
final class RuntimeProcess implements AutoCloseable {

    private final Process process;
    private final Path console;
    private final List<String> lines = new CopyOnWriteArrayList<>();

    private RuntimeProcess(Process process, Path console) {
        this.process = process;
        this.console = console;
    }

    /**
     * Starts the runtime with a deploy directory of its own, so what an operator
     * dropped into runtime/deploy does not change the demo.
     */
    static RuntimeProcess start(Path runtimeJar, Path features, Path stateDir) throws IOException {
        Path deploy = Files.createDirectories(stateDir.resolve("deploy"));
        Path console = stateDir.resolve("runtime.out");
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, "-jar", runtimeJar.toString(), "--state-dir", stateDir.toString(),
                "--features", features.toString(), "--deploy", deploy.toString())
                .redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        RuntimeProcess runtime = new RuntimeProcess(p, console);
        Thread copier = new Thread(runtime::copyConsole, "demo-runtime-console");
        copier.setDaemon(true);
        copier.start();
        return runtime;
    }

    private void copyConsole() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
             PrintWriter out = new PrintWriter(Files.newBufferedWriter(console, StandardCharsets.UTF_8), true)) {
            for (String line; (line = in.readLine()) != null; ) {
                lines.add(line);
                out.println(line);
            }
        } catch (IOException e) {
            // the runtime is gone; what it printed so far is in the file
        }
    }

    /** Waits for the launcher's "Backplane running" line; returns it. */
    String awaitRunning(long timeoutSeconds) throws DemoFailure, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (System.nanoTime() < deadline) {
            for (String line : lines) {
                if (line.startsWith("Backplane running")) {
                    return line;
                }
            }
            if (!process.isAlive()) {
                throw new DemoFailure("the runtime exited with status " + process.exitValue() + " while starting: "
                        + lastLines(5));
            }
            Thread.sleep(50);
        }
        throw new DemoFailure("the runtime did not start within " + timeoutSeconds + " s; its console is in " + console);
    }

    /** The launcher's {@code warning:} lines (bundles not active, components unsatisfied). */
    List<String> warnings() {
        return lines.stream().filter(l -> l.startsWith("warning")).toList();
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process.isAlive();
    }

    Path console() {
        return console;
    }

    /** SIGTERM, then waits for a clean exit; returns the exit status. */
    int stop(long timeoutSeconds) throws DemoFailure, InterruptedException {
        process.toHandle().destroy();
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new DemoFailure("the runtime did not stop within " + timeoutSeconds + " s of SIGTERM; killed it");
        }
        return process.exitValue();
    }

    String lastLines(int n) {
        List<String> all = List.copyOf(lines);
        return String.join(" | ", all.subList(Math.max(0, all.size() - n), all.size()));
    }

    /** Never leaves a runtime behind, whatever happened to the demo. */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.toHandle().destroy();
            try {
                if (!process.waitFor(20, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
