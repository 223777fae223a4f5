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
 * JVM's java), {@code {domid}}, {@code {name}}, {@code {config}} (the config file, or empty) and
 * {@code {state}} (the state directory) replaced. An empty template starts nothing.
 * Output goes to {@code <state>/guests/<name>.log}.
 *
 * <p>Each running guest has a record, {@code <state>/guests/<domid>.guest} (its pid, name and
 * config file), so that the toolstack that follows this one in the same runtime (after an update
 * of the toolstack bundle) takes the guests back ({@link #adopt}) instead of losing them.
 */
final class GuestLauncher {

    /** Replaced by {@link #setTemplate}; guests already running keep the command they were started with. */
    private volatile String template;
    private final Path stateDir;
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

    /** {@code exits} hears of a guest process that ended without {@link #stop} (domid, exit status; -1 unknown). */
    GuestLauncher(String template, Path stateDir, java.util.function.BiConsumer<Integer, Integer> exits) {
        this.stateDir = stateDir;
        this.exits = exits;
        setTemplate(template);
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
        for (String word : t.split("\\s+")) {
            cmd.add(word.replace("{java}", java()).replace("{domid}", Integer.toString(domid)).replace("{name}", name)
                    .replace("{config}", config).replace("{state}", stateDir.toString()));
        }
        return cmd;
    }

    /** Starts the guest; returns its pid, or -1 when no guest command is configured. */
    long start(int domid, String name, String config) {
        if (!enabled()) {
            return -1;
        }
        List<String> cmd = command(domid, name, config);
        try {
            Path logs = Files.createDirectories(stateDir.resolve("guests"));
            Path log = logs.resolve(name + ".log");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            track(domid, p.toHandle(), p.onExit().thenApply(Process::exitValue));
            Properties r = new Properties();
            r.setProperty("name", name);
            r.setProperty("config", config);
            r.setProperty("pid", Long.toString(p.pid()));
            p.info().startInstant().ifPresent(t -> r.setProperty("started", t.toString()));
            try (Writer w = Files.newBufferedWriter(record(domid))) {
                r.store(w, "guest of domain " + domid + " (" + name + "), for the toolstack that follows this one");
            }
            return p.pid();
        } catch (IOException e) {
            throw new ToolstackException("cannot start the guest of domain " + name + " (" + String.join(" ", cmd)
                    + "): " + e.getMessage(), e);
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
