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
 * JVM's java), {@code {domid}}, {@code {name}}, {@code {config}} (the config file, or empty) and
 * {@code {state}} (the state directory) replaced. An empty template starts nothing.
 * Output goes to {@code <state>/guests/<name>.log}.
 */
final class GuestLauncher {

    /** Replaced by {@link #setTemplate}; guests already running keep the command they were started with. */
    private volatile String template;
    private final Path stateDir;
    private final Map<Integer, Process> guests = new ConcurrentHashMap<>();
    /** Domains whose guest died on its own and that were not destroyed since. */
    private final java.util.Set<Integer> dead = ConcurrentHashMap.newKeySet();
    private final java.util.function.BiConsumer<Integer, Integer> exits;

    GuestLauncher(String template, Path stateDir) {
        this(template, stateDir, (domid, status) -> { });
    }

    /** {@code exits} hears of a guest process that ended without {@link #stop} (domid, exit status). */
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
            guests.put(domid, p);
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
        } catch (IOException e) {
            throw new ToolstackException("cannot start the guest of domain " + name + " (" + String.join(" ", cmd)
                    + "): " + e.getMessage(), e);
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
