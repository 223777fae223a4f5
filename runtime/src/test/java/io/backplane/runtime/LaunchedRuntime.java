package io.backplane.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import io.backplane.control.client.ControlClient;

/**
 * The runtime as an operator starts it, {@code java -jar backplane-runtime.jar}, for the ITs that
 * drive a whole instance: started in the checkout root (where a toolstack guest command finds the
 * guest jar), its console collected line by line as it comes.
 */
final class LaunchedRuntime {

    static final Path JAR = Path.of(System.getProperty("backplane.runtime.jar", "target/backplane-runtime.jar")).toAbsolutePath();
    static final Path FEATURES = Path.of(System.getProperty("backplane.features", "../features")).toAbsolutePath().normalize();
    /** The checkout root. */
    static final Path REPO = FEATURES.getParent();

    private LaunchedRuntime() {
    }

    /** Starts an instance and waits for its "Backplane running" line; {@code console} gets every line it prints. */
    static Process start(Path stateDir, Path features, Path deploy, List<String> console) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("java", "-jar", JAR.toString(), "--state-dir", stateDir.toString(),
                "--features", features.toString(), "--deploy", Files.createDirectories(deploy).toString())
                .directory(REPO.toFile()).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    console.add(line);
                }
            } catch (IOException ignored) {
                // gone
            }
        });
        reader.setDaemon(true);
        reader.start();
        try {
            await("the runtime to run", 120, () -> console.stream().anyMatch(l -> l.startsWith("Backplane running")));
        } catch (AssertionError e) {
            p.destroyForcibly();
            throw new AssertionError(e.getMessage() + "; console:\n" + String.join("\n", console));
        }
        return p;
    }

    /**
     * The features directory copied into {@code dir}/features with one feature more, {@code json}:
     * a test's configurations, applied before any component starts.
     */
    static Path featuresWith(Path dir, String json) throws IOException {
        Path features = Files.createDirectories(dir.resolve("features"));
        try (var files = Files.list(FEATURES)) {
            for (Path f : files.filter(f -> f.toString().endsWith(".json")).toList()) {
                Files.copy(f, features.resolve(f.getFileName()));
            }
        }
        Files.writeString(features.resolve("backplane-test.json"), json);
        return features;
    }

    /** Runs a shell command that must succeed; returns what it printed. */
    static String run(ControlClient client, String command) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = client.run(command, out, err);
        assertThat(status).as("status of %s (stderr: %s)", command, err).isZero();
        return out.toString(StandardCharsets.UTF_8);
    }

    static void await(String what, int seconds, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + ": not within " + seconds + " s");
            }
            Thread.sleep(100);
        }
    }
}
