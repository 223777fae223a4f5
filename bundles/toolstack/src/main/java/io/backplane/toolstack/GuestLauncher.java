package io.backplane.toolstack;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

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
 *
 * <p>Each running guest has a record, {@code <state>/guests/<domid>.guest} (its pid, name and
 * config file), so that the toolstack that follows this one in the same runtime (after an update
 * of the toolstack bundle) takes the guests back ({@link #adopt}) instead of losing them.
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
    private final Map<Integer, ProcessHandle> guests = new ConcurrentHashMap<>();
    /** Domains whose guest died on its own and that were not destroyed since. */
    private final java.util.Set<Integer> dead = ConcurrentHashMap.newKeySet();
    private final java.util.function.BiConsumer<Integer, Integer> exits;

    GuestLauncher(String template, Path stateDir) {
        this(template, stateDir, (domid, status) -> { });
    }

    /**
     * A guest process another toolstack started, found by {@link #adopt}: watched again when
     * {@code running}, else it died while no toolstack watched it.
     */
    record Adopted(int domid, String name, String config, long pid, boolean running) {
    }

    GuestLauncher(String template, Path stateDir, java.util.function.BiConsumer<Integer, Integer> exits) {
        this(template, stateDir, null, null, exits);
    }

    /**
     * @param home     the install root (working directory of guests, {home}); null: the state directory
     * @param guestJar the guest program's jar ({guest.jar}); null when the runtime names none
     * @param exits    hears of a guest process that ended without {@link #stop} (domid, exit status; -1 unknown)
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
            guests.put(domid, p.toHandle()); // running(domid) from the start; watched once it attached
            awaitAttached(p, log, logStart, name, cmd);
            Properties r = new Properties();
            r.setProperty("name", name);
            r.setProperty("config", config);
            r.setProperty("pid", Long.toString(p.pid()));
            p.info().startInstant().ifPresent(t -> r.setProperty("started", t.toString()));
            try (Writer w = Files.newBufferedWriter(record(domid))) {
                r.store(w, "guest of domain " + domid + " (" + name + "), for the toolstack that follows this one");
            }
        } catch (IOException | RuntimeException e) {
            if (p != null) {
                guests.remove(domid);
                p.destroyForcibly();
            }
            throw e instanceof ToolstackException t ? t : new ToolstackException("cannot start the guest of domain "
                    + name + " (" + String.join(" ", cmd) + "): " + e.getMessage(), e);
        }
        // Watched only now: a program that failed to start is the create's error, not a crash to act on.
        track(domid, guests.get(domid), p.onExit().thenApply(Process::exitValue));
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

    /** Watches the guest: an exit not caused by {@link #stop} is reported to {@code exits}. */
    private void track(int domid, ProcessHandle guest, CompletableFuture<Integer> status) {
        guests.put(domid, guest);
        status.thenAccept(code -> {
            // Stopped by us (destroy) it is no longer registered: only a death on its own is reported.
            // Marked dead before it is unregistered, so launched() never misses it in between.
            dead.add(domid);
            if (guests.remove(domid, guest)) {
                exits.accept(domid, code);
            } else {
                dead.remove(domid);
            }
        });
    }

    private Path record(int domid) {
        return stateDir.resolve("guests").resolve(domid + ".guest");
    }

    /**
     * Takes back the guests whose records a previous toolstack of this runtime left, when their
     * process still runs (the same process: pid and start time); the others are returned as not
     * running, and their records forgotten.
     */
    List<Adopted> adopt() {
        List<Adopted> adopted = new ArrayList<>();
        Path dir = stateDir.resolve("guests");
        if (!Files.isDirectory(dir)) {
            return adopted;
        }
        List<Path> records;
        try (var files = Files.list(dir)) {
            records = files.filter(x -> x.getFileName().toString().matches("\\d+\\.guest")).toList();
        } catch (IOException e) {
            return adopted; // nothing readable to take back
        }
        for (Path f : records) {
            int domid = Integer.parseInt(f.getFileName().toString().replace(".guest", ""));
            Properties r = new Properties();
            long pid = -1;
            Optional<ProcessHandle> guest = Optional.empty();
            try (Reader in = Files.newBufferedReader(f)) {
                r.load(in);
                pid = Long.parseLong(r.getProperty("pid", "-1"));
                guest = ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
                        .filter(h -> h.info().startInstant().map(Object::toString).orElse("")
                                .equals(r.getProperty("started", "")));
            } catch (IOException | RuntimeException e) {
                // unreadable: forgotten below, as a record of a guest that is gone
            }
            String name = r.getProperty("name", "");
            if (guest.isPresent() && !guests.containsKey(domid)) {
                track(domid, guest.get(), guest.get().onExit().thenApply(h -> -1));
                adopted.add(new Adopted(domid, name, r.getProperty("config", ""), pid, true));
            } else {
                if (!name.isEmpty() && !guests.containsKey(domid)) {
                    adopted.add(new Adopted(domid, name, r.getProperty("config", ""), pid, false));
                }
                try {
                    Files.deleteIfExists(f);
                } catch (IOException e) {
                    // left for the next look
                }
            }
        }
        return adopted;
    }

    private static String java() {
        return ProcessHandle.current().info().command().orElse("java");
    }

    /** Whether a guest process was started for the domain and not stopped by {@link #stop} (it may have died since). */
    boolean launched(int domid) {
        return guests.containsKey(domid) || dead.contains(domid);
    }

    boolean running(int domid) {
        ProcessHandle p = guests.get(domid);
        return p != null && p.isAlive();
    }

    /** Stops the guest process: politely first, then forcibly after two seconds. */
    void stop(int domid) {
        dead.remove(domid);
        try {
            Files.deleteIfExists(record(domid));
        } catch (IOException e) {
            // a record left behind is forgotten by the next adopt(): its process is gone
        }
        ProcessHandle p = guests.remove(domid);
        if (p == null) {
            return;
        }
        p.destroy();
        try {
            p.onExit().get(2, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            p.destroyForcibly();
            p.onExit().completeOnTimeout(p, 2, TimeUnit.SECONDS).join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException e) {
            // it is gone
        }
    }

    void stopAll() {
        List.copyOf(guests.keySet()).forEach(this::stop);
    }

    /** Lets go of every guest, leaving it running with its record, for the toolstack that follows. */
    void release() {
        guests.clear();
        dead.clear();
    }

    /** The domains whose guest this launcher watches. */
    java.util.Set<Integer> running() {
        return java.util.Set.copyOf(guests.keySet());
    }
}
