package io.backplane.control.client;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code backplane shell [--state-dir DIR] [--wait[=SECONDS]] [COMMAND ...]}: runs one Gogo command line in the
 * running instance and exits with its status, or, without a command, reads command lines from
 * stdin (an interactive console when stdin is a terminal). Like ssh, the words of COMMAND are
 * joined with spaces, so quote a line that needs pipes or quoted arguments.
 * Exit status: the command's (0 success, 1 failed), 2 usage error, 3 no running instance.
 */
public final class ShellMain {

    static final int USAGE = 2;
    static final int NO_INSTANCE = 3;
    private static final Pattern EXIT = Pattern.compile("\\s*(?:exit|quit)(?:\\s+(\\d{1,3}))?\\s*");

    private ShellMain() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.in, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        return run(args, System.in, out, err);
    }

    /** The command line's work with its streams given: stdin feeds the console. */
    public static int run(String[] args, InputStream in, PrintStream out, PrintStream err) {
        Path stateDir = null;
        Duration wait = null;
        int i = 0;
        for (; i < args.length && args[i].startsWith("-"); i++) {
            if (args[i].equals("--state-dir") && i + 1 < args.length) {
                stateDir = Path.of(args[++i]);
            } else if (args[i].equals("--wait") || args[i].startsWith("--wait=")) {
                wait = waitOption(args[i]);
                if (wait == null) {
                    err.println("backplane shell: --wait=SECONDS wants a whole number of seconds, not '" + args[i].substring(7)
                            + "'\n" + USAGE_TEXT);
                    return USAGE;
                }
            } else if (args[i].equals("--help") || args[i].equals("-h")) {
                out.println(USAGE_TEXT);
                return 0;
            } else if (args[i].equals("--")) {
                i++;
                break;
            } else {
                err.println("backplane shell: unknown option " + args[i] + "\n" + USAGE_TEXT);
                return USAGE;
            }
        }
        Path socket = ControlClient.socketIn(stateDir != null ? stateDir : StateDirectory.defaultDir());
        String command = String.join(" ", Arrays.asList(args).subList(i, args.length)).trim();
        try (ControlClient client = wait != null ? ControlClient.awaitReady(socket, wait) : ControlClient.connect(socket)) {
            return command.isEmpty() ? console(client, socket, in, out, err) : client.run(command, out, err);
        } catch (ControlClient.NoInstanceException e) {
            err.println("backplane shell: " + e.getMessage() + "; start one with: backplane run --state-dir " + socket.getParent()
                    + " (or wait for one with --wait)");
            return NO_INSTANCE;
        } catch (IOException e) {
            err.println("backplane shell: " + e.getMessage());
            return NO_INSTANCE;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("backplane shell: interrupted while waiting for Backplane");
            return NO_INSTANCE;
        }
    }

    static final String USAGE_TEXT = """
            usage: backplane shell [--state-dir DIR] [--wait[=SECONDS]] [COMMAND ...]
              --state-dir DIR    the instance's state directory (default: the one backplane run picks)
              --wait[=SECONDS]   wait for a starting instance to be ready (default 60 s) instead of failing
            Runs COMMAND in the running instance (words joined like ssh does: quote pipes); without
            COMMAND, a console with history, editing and completion (exit or Ctrl-D leaves it).
            Exit status: 0 ok, 1 command failed, 2 usage error, 3 no instance running (or not ready in time).""";

    /** The timeout of {@code --wait} or {@code --wait=SECONDS}; null when SECONDS is not a number. */
    private static Duration waitOption(String option) {
        if (option.equals("--wait")) {
            return DEFAULT_WAIT;
        }
        try {
            int seconds = Integer.parseInt(option.substring("--wait=".length()));
            return seconds >= 0 ? Duration.ofSeconds(seconds) : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static final Duration DEFAULT_WAIT = Duration.ofSeconds(60);

    /**
     * Reads command lines until end of input or {@code exit [N]} / {@code quit}. At a terminal it
     * is the JLine {@link Console}. From a pipe or file its status is N when given, else the last
     * failing command's status, so a script of commands fails when one of them does.
     */
    private static int console(ControlClient client, Path socket, InputStream stdin, PrintStream out, PrintStream err)
            throws IOException {
        if (stdin == System.in && System.console() != null) {
            try (org.jline.terminal.Terminal terminal = org.jline.terminal.TerminalBuilder.builder().system(true).build()) {
                return Console.run(client, socket, terminal, historyFile());
            }
        }
        BufferedReader in = new BufferedReader(new InputStreamReader(stdin, StandardCharsets.UTF_8));
        int status = 0;
        while (true) {
            String line = in.readLine();
            Matcher exit = line == null ? null : EXIT.matcher(line);
            if (line == null || exit.matches()) {
                return exit != null && exit.group(1) != null ? Integer.parseInt(exit.group(1)) : status;
            }
            if (!line.isBlank()) {
                int result = client.run(line, out, err);
                status = result != 0 ? result : status;
            }
        }
    }

    /** The console's history, kept across sessions: {@code ~/.backplane_history}. */
    static Path historyFile() {
        return Path.of(System.getProperty("user.home"), ".backplane_history");
    }
}
