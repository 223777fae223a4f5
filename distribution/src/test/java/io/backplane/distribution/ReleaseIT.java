package io.backplane.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The release as an operator gets it: the tarball unpacked into a fresh directory and run with a
 * Java runtime alone (no Maven on the PATH, an empty Maven repository and home), from a working
 * directory that is not the install root; the .deb's layout and its systemd unit.
 */
class ReleaseIT {

    private static final Path TARBALL = Path.of(System.getProperty("backplane.release.tarball"));
    private static final Path TARGET = Path.of(System.getProperty("backplane.release.deb.dir"));

    @TempDir
    Path dir;

    private final List<Process> processes = new CopyOnWriteArrayList<>();

    @AfterEach
    void killLeftovers() throws InterruptedException {
        for (Process p : processes) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void theUnpackedTarballRunsTheDemoGuestWithAJavaRuntimeAloneFromAnotherDirectory() throws Exception {
        Path install = Files.createDirectories(dir.resolve("opt"));
        assertThat(run(install, Map.of(), "tar", "xzf", TARBALL.toString()).status).isZero();
        Path home;
        try (var entries = Files.list(install)) {
            home = entries.filter(Files::isDirectory).findFirst().orElseThrow();
        }
        for (String part : List.of("bin/backplane", "lib/backplane-runtime.jar", "bundles", "features/backplane-core.json",
                "etc/backplane.conf", "deploy", "guest/backplane-guest.jar", "examples/demo.cfg", "systemd/backplane.service",
                "docs/README.md", "docs/backplane.8")) {
            assertThat(home.resolve(part)).as(part).exists();
        }
        assertThat(Files.isExecutable(home.resolve("bin/backplane"))).isTrue();

        Map<String, String> env = javaOnly();
        Path state = dir.resolve("s");
        Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));
        Process runtime = start(elsewhere, env, home.resolve("bin/backplane").toString(), "run", "--state-dir", state.toString());
        Lines console = new Lines(runtime);
        console.await(l -> l.startsWith("Backplane running"));
        assertThat(console.all).noneMatch(l -> l.startsWith("warning"));
        assertThat(console.all).anyMatch(l -> l.startsWith("Backplane starting from " + home + ": "));

        // The operator's own copy of the example, next to its disk image, named relative to where they stand.
        Path work = Files.createDirectories(dir.resolve("work/examples"));
        Files.copy(home.resolve("examples/demo.cfg"), work.resolve("demo.cfg"));
        try (RandomAccessFile image = new RandomAccessFile(work.resolve("demo-disk.img").toFile(), "rw")) {
            image.setLength(64L << 20);
        }
        String bin = home.resolve("bin/backplane").toString();
        Result created = run(work.getParent(), env, bin, "shell", "--state-dir", state.toString(), "xl:create", "examples/demo.cfg");
        assertThat(created.status).as(created.output).isZero();
        assertThat(created.output).startsWith("Created domain 1 with 1/vif/0, 1/vbd/51712; guest process ");

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String devices = "";
        while (System.nanoTime() < deadline) {
            devices = run(work, env, bin, "shell", "--state-dir", state.toString(), "pv:devices").output;
            if (devices.lines().filter(l -> l.matches("demo +(vif|vbd) .* Connected +Connected .*")).count() == 2) {
                break;
            }
            Thread.sleep(200);
        }
        assertThat(devices.lines().filter(l -> l.matches("demo +(vif|vbd) .* Connected +Connected .*"))).hasSize(2);
        long guest = Long.parseLong(created.output.replaceAll("(?s).*guest process (\\d+).*", "$1"));

        runtime.toHandle().destroy(); // SIGTERM, as systemctl stop
        assertThat(runtime.waitFor(60, TimeUnit.SECONDS)).isTrue();
        console.await(l -> l.equals("Backplane stopped"));
        assertThat(runtime.exitValue()).isEqualTo(143);
        assertThat(console.all).noneMatch(l -> l.contains("left behind"));
        assertThat(state.resolve("control.sock")).doesNotExist();
        assertThat(ProcessHandle.of(guest).map(ProcessHandle::isAlive).orElse(false)).as("guest process").isFalse();
    }

    @Test
    void theDebInstallsUnderOptEtcAndVarWithItsSystemdUnitWhichSystemdAccepts() throws Exception {
        Path deb;
        try (var files = Files.list(TARGET)) {
            deb = files.filter(f -> f.getFileName().toString().matches("backplane_.*_all\\.deb")).findFirst().orElseThrow();
        }
        Result contents = run(dir, Map.of(), "dpkg-deb", "--contents", deb.toString());
        assertThat(contents.status).as(contents.output).isZero();
        for (String path : List.of("./opt/backplane/bin/backplane", "./opt/backplane/lib/backplane-runtime.jar",
                "./opt/backplane/guest/backplane-guest.jar", "./opt/backplane/features/backplane-core.json",
                "./etc/backplane/backplane.conf", "./var/lib/backplane/deploy/", "./lib/systemd/system/backplane.service",
                "./usr/share/man/man8/backplane.8.gz", "./opt/backplane/etc -> /etc/backplane",
                "./opt/backplane/deploy -> /var/lib/backplane/deploy", "./usr/bin/backplane -> /opt/backplane/bin/backplane")) {
            assertThat(contents.output).as(path).containsPattern(" " + java.util.regex.Pattern.quote(path) + "$|(?m) "
                    + java.util.regex.Pattern.quote(path) + "$");
        }
        assertThat(contents.output).containsPattern("(?m)^-rwxr-xr-x root/root .* \\./opt/backplane/bin/backplane$");
        assertThat(run(dir, Map.of(), "dpkg-deb", "--field", deb.toString(), "Depends").output)
                .contains("java17-runtime-headless");

        Path root = Files.createDirectories(dir.resolve("root"));
        assertThat(run(dir, Map.of(), "dpkg-deb", "-x", deb.toString(), root.toString()).status).isZero();
        Path analyze = Path.of("/usr/bin/systemd-analyze");
        assertThat(analyze).as("systemd-analyze is missing: apt-get install systemd").exists();
        // The unit as installed, its /opt/backplane pointed at the extracted copy (nothing is
        // installed on this machine); MANPATH finds the package's man page for Documentation=.
        Path unit = dir.resolve("backplane.service");
        Files.writeString(unit, Files.readString(root.resolve("lib/systemd/system/backplane.service"))
                .replace("/opt/backplane/", root + "/opt/backplane/"));
        Result verify = run(dir, Map.of("MANPATH", root.resolve("usr/share/man").toString()), analyze.toString(), "verify",
                unit.toString());
        assertThat(verify.status).as(verify.output).isZero();
        assertThat(verify.output).isEmpty();
        assertThat(Files.readString(unit)).contains("Type=notify").contains("SuccessExitStatus=143");
    }

    /** PATH with java and the few tools bin/backplane uses, nothing else (no mvn); empty home and repository. */
    private Map<String, String> javaOnly() throws IOException {
        Path bin = Files.createDirectories(dir.resolve("java-only-bin"));
        Path java = Path.of(ProcessHandle.current().info().command().orElseThrow());
        Files.createSymbolicLink(bin.resolve("java"), java);
        for (String tool : List.of("bash", "env", "readlink", "dirname")) {
            Files.createSymbolicLink(bin.resolve(tool), Path.of("/usr/bin", tool).toRealPath());
        }
        Path emptyHome = Files.createDirectories(dir.resolve("home"));
        Path emptyRepository = Files.createDirectories(emptyHome.resolve(".m2/repository"));
        return Map.of("PATH", bin.toString(), "HOME", emptyHome.toString(),
                // user.home comes from the password database, not HOME: name both.
                "BACKPLANE_JAVA_OPTS", "-Duser.home=" + emptyHome + " -Dmaven.repo.local=" + emptyRepository);
    }

    private record Result(int status, String output) {
    }

    private Process start(Path cwd, Map<String, String> env, String... command) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(cwd.toFile()).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        builder.environment().remove("MAVEN_OPTS");
        builder.environment().putAll(env);
        Process p = builder.start();
        processes.add(p);
        return p;
    }

    private Result run(Path cwd, Map<String, String> env, String... command) throws Exception {
        Process p = start(cwd, env, command);
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as(String.join(" ", command)).isTrue();
        return new Result(p.exitValue(), output);
    }

    /** A process's output lines as they come. */
    private static final class Lines {
        final BlockingQueue<String> queue = new LinkedBlockingQueue<>();
        final List<String> all = new CopyOnWriteArrayList<>();

        Lines(Process p) {
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = in.readLine()) != null; ) {
                        queue.add(line);
                        all.add(line);
                    }
                } catch (IOException ignored) {
                    // the process is gone
                }
            });
            reader.setDaemon(true);
            reader.start();
        }

        void await(Predicate<String> wanted) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (System.nanoTime() < deadline) {
                String line = queue.poll(100, TimeUnit.MILLISECONDS);
                if (line != null && wanted.test(line)) {
                    return;
                }
            }
            throw new AssertionError("no such line within 120 s; output was:\n" + String.join("\n", new ArrayList<>(all)));
        }
    }
}
