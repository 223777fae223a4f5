package io.backplane.toolstack;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Starts the guest program of a sim-mode domain as its own OS process (the frontends live there,
 * as they would in a real guest kernel). The command line is a template from configuration
 * ({@code io.backplane.toolstack} {@code guestCommand}), split on spaces, with {@code {java}} (this
 * JVM's java), {@code {guest.jar}} (the guest program the runtime ships), {@code {home}} (the
 * install root), {@code {domid}}, {@code {name}}, {@code {config}} (the config file, or empty) and
 * {@code {state}} (the state directory) replaced. An empty template starts nothing. The process
 * runs in the install root, so a relative path in the command means the same wherever the
 * runtime was started. Output goes to {@code <state>/guests/<name>.log}.
 *
 * <p>A start returns once the guest says it attached to its domain ({@value #ATTACHED} on its
 * output, as Backplane's guest program prints it), or the start timeout passed with the
 * program still running; a program that ends before either failed, and its own words make the
 * error.
 */
final class GuestLauncher {

    /** What the guest program prints once it attached to its domain's memory, grants and event channels. */
    static final String ATTACHED = ": attached";
    /** Lines of the guest's output quoted when it fails to start. */
    private static final int QUOTED_LINES = 5;

    /** Replaced by {@link #setTemplate}; guests already running keep the command they were started with. */
    private volatile String template;
    private final Path stateDir;
    /** Install root: the guest's working directory and {home}; null where no launcher set one (tests). */
    private final Path home;
    private final Path guestJar;
    private volatile java.time.Duration startTimeout = java.time.Duration.ofSeconds(10);
    private final Map<Integer, Process> guests = new ConcurrentHashMap<>();
    /** Domains whose guest died on its own and that were not destroyed since. */
    private final java.util.Set<Integer> dead = ConcurrentHashMap.newKeySet();
    private final java.util.function.BiConsumer<Integer, Integer> exits;

    GuestLauncher(String template, Path stateDir) {
        this(template, stateDir, (domid, status) -> { });
    }

    GuestLauncher(String template, Path stateDir, java.util.function.BiConsumer<Integer, Integer> exits) {
        this(template, stateDir, null, null, exits);
    }

    /**
     * @param home     the install root (working directory of guests, {home}); null: the state directory
     * @param guestJar the guest program's jar ({guest.jar}); null when the runtime names none
     * @param exits    hears of a guest process that ended without {@link #stop} (domid, exit status)
     */
    GuestLauncher(String template, Path stateDir, Path home, Path guestJar,
                  java.util.function.BiConsumer<Integer, Integer> exits) {
        this.stateDir = stateDir;
        this.home = home;
        this.guestJar = guestJar;
        this.exits = exits;
        setTemplate(template);
    }

    /** How long a start waits for the guest to say it attached before taking a running program as started. */
    void setStartTimeout(java.time.Duration timeout) {
        this.startTimeout = timeout;
    }

    /** A new guest command, for domains created from now on. */
    void setTemplate(String template) {
        this.template = template == null ? "" : template.trim();
    }

    boolean enabled() {
        return !template.isEmpty();
    }

    /** The command for one domain, for logs and tests. */
    List<String> command(int domid, String name, String config) {
        List<String> cmd = new ArrayList<>();
        String t = template;
        if (t.contains("{guest.jar}") && guestJar == null) {
            throw new ToolstackException("the guest command names {guest.jar} but the runtime did not say where the guest"
                    + " program is (framework property backplane.guest.jar); set guestCommand with the jar's path");
        }
        for (String word : t.split("\\s+")) {
            cmd.add(word.replace("{java}", java()).replace("{guest.jar}", String.valueOf(guestJar))
                    .replace("{home}", String.valueOf(workingDirectory())).replace("{domid}", Integer.toString(domid))
                    .replace("{name}", name).replace("{config}", config).replace("{state}", stateDir.toString()));
        }
        return cmd;
    }

    private Path workingDirectory() {
        return home != null ? home : stateDir;
    }

    /**
     * Starts the guest; returns its pid, or -1 when no guest command is configured.
     *
     * @throws ToolstackException when the program cannot be started or ends before it attached,
     *                            with what it printed
     */
    long start(int domid, String name, String config) {
        if (!enabled()) {
            return -1;
        }
        List<String> cmd = command(domid, name, config);
        Process p = null;
        try {
            Path log = Files.createDirectories(stateDir.resolve("guests")).resolve(name + ".log");
            long logStart = Files.exists(log) ? Files.size(log) : 0;
            ProcessBuilder builder = new ProcessBuilder(cmd).directory(workingDirectory().toFile()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            builder.environment().remove("NOTIFY_SOCKET"); // systemd's socket is the runtime's, not its guests'
            p = builder.start();
            guests.put(domid, p);
            awaitAttached(p, log, logStart, name, cmd);
        } catch (IOException | RuntimeException e) {
            if (p != null) {
                guests.remove(domid, p);
                p.destroyForcibly();
            }
            throw e instanceof ToolstackException t ? t : new ToolstackException("cannot start the guest of domain "
                    + name + " (" + String.join(" ", cmd) + "): " + e.getMessage(), e);
        }
        // Watched only now: a program that failed to start is the create's error, not a crash to act on.
        p.onExit().thenAccept(exited -> {
            // Stopped by us (destroy) it is no longer registered: only a death on its own is reported.
            // Marked dead before it is unregistered, so launched() never misses it in between.
            dead.add(domid);
            if (guests.remove(domid, exited)) {
                exits.accept(domid, exited.exitValue());
            } else {
                dead.remove(domid);
            }
        });
        return p.pid();
    }

    /**
     * Waits until the guest's new output says it attached, it exits (then throws with its last
     * lines), or the start timeout passes with it still running.
     */
    private void awaitAttached(Process p, Path log, long logStart, String name, List<String> cmd) throws IOException {
        long deadline = System.nanoTime() + startTimeout.toNanos();
        while (true) {
            boolean exited = !p.isAlive();
            String output = newOutput(log, logStart);
            if (output.contains(ATTACHED)) {
                return;
            }
            if (exited) {
                List<String> lines = output.lines().filter(l -> !l.isBlank()).toList();
                String said = lines.isEmpty() ? "it printed nothing"
                        : String.join(" / ", lines.subList(Math.max(0, lines.size() - QUOTED_LINES), lines.size()));
                throw new ToolstackException("the guest program of domain " + name + " exited with status "
                        + p.exitValue() + " before attaching to its domain: " + said + " (command: "
                        + String.join(" ", cmd) + "; log " + log + ")");
            }
            if (System.nanoTime() - deadline >= 0) {
                return;
            }
            try {
                p.waitFor(20, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new ToolstackException("interrupted while starting the guest of domain " + name, e);
            }
        }
    }

    private static String newOutput(Path log, long from) throws IOException {
        try (var channel = Files.newByteChannel(log)) {
            long size = channel.size();
            if (size <= from) {
                return "";
            }
            java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate((int) Math.min(size - from, 1 << 16));
            channel.position(from);
            while (bytes.hasRemaining() && channel.read(bytes) > 0) {
                // read what is there
            }
            return new String(bytes.array(), 0, bytes.position(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    private static String java() {
        return ProcessHandle.current().info().command().orElse("java");
    }

    /** Whether a guest process was started for the domain and not stopped by {@link #stop} (it may have died since). */
    boolean launched(int domid) {
        return guests.containsKey(domid) || dead.contains(domid);
    }

    boolean running(int domid) {
        Process p = guests.get(domid);
        return p != null && p.isAlive();
    }

    /** Stops the guest process: politely first, then forcibly after two seconds. */
    void stop(int domid) {
        dead.remove(domid);
        Process p = guests.remove(domid);
        if (p == null) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(2, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(2, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    void stopAll() {
        List.copyOf(guests.keySet()).forEach(this::stop);
    }
}
