package io.backplane.runtime.demo;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import io.backplane.control.client.ControlClient;

/**
 * The demo's side of {@code ./backplane shell}: runs commands in the instance it started, over the
 * control socket, and reads XenStore through the {@code xs:} commands, as an operator would.
 */
final class DemoShell implements AutoCloseable {

    private final ControlClient client;

    DemoShell(Path stateDir) throws IOException {
        this.client = ControlClient.connect(ControlClient.socketIn(stateDir));
    }

    /** Runs a command; its output, or a failure carrying the command's one-line error. */
    String run(String command) throws DemoFailure {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status;
        try {
            status = client.run(command, out, err);
        } catch (IOException e) {
            throw new DemoFailure(command + ": the control connection failed: " + e.getMessage(), e);
        }
        if (status != 0) {
            throw new DemoFailure(command + ": " + err.toString(StandardCharsets.UTF_8).strip());
        }
        return out.toString(StandardCharsets.UTF_8).stripTrailing();
    }

    /** A XenStore node's value, or empty when it does not exist (any other error fails). */
    Optional<String> read(String path) throws DemoFailure {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            if (client.run("xs:read " + path, out, err) == 0) {
                return Optional.of(out.toString(StandardCharsets.UTF_8).strip());
            }
        } catch (IOException e) {
            throw new DemoFailure("xs:read " + path + ": the control connection failed: " + e.getMessage(), e);
        }
        String error = err.toString(StandardCharsets.UTF_8);
        if (error.contains("ENOENT")) {
            return Optional.empty();
        }
        throw new DemoFailure("xs:read " + path + ": " + error.strip());
    }

    /**
     * Every node under {@code path} with its value, keyed by the path relative to it
     * ({@code queue-0/tx-sent}), from one {@code xs:ls}; empty when the directory does not exist.
     */
    Map<String, String> tree(String path) throws DemoFailure {
        if (read(path).isEmpty()) {
            return Map.of();
        }
        return parseLs(run("xs:ls " + path));
    }

    /** Parses xenstore-ls output: {@code name = "value"}, one space of indent per level. */
    static Map<String, String> parseLs(String ls) {
        Map<String, String> nodes = new LinkedHashMap<>();
        String[] stack = new String[64];
        for (String line : ls.split("\n")) {
            int depth = 0;
            while (depth < line.length() && line.charAt(depth) == ' ') {
                depth++;
            }
            int eq = line.indexOf(" = \"");
            if (eq < 0 || depth >= stack.length || !line.endsWith("\"")) {
                continue;
            }
            stack[depth] = line.substring(depth, eq);
            StringBuilder key = new StringBuilder();
            for (int i = 0; i <= depth; i++) {
                key.append(i == 0 ? "" : "/").append(stack[i]);
            }
            nodes.put(key.toString(), line.substring(eq + 4, line.length() - 1));
        }
        return nodes;
    }

    @Override
    public void close() throws IOException {
        client.close();
    }
}
