package io.backplane.control.client;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.reader.impl.completer.ArgumentCompleter;
import org.jline.reader.impl.completer.StringsCompleter;
import org.jline.builtins.Completers;
import org.jline.terminal.Terminal;

/**
 * The interactive console of {@code backplane shell} at a terminal, on the client side (the
 * runtime never sees a terminal): JLine's line editing, a history kept in a file across
 * sessions, and completion of command names (from {@code bp:help}) then of file names.
 * Ctrl-C drops the line being typed; Ctrl-D or {@code exit [N]} leaves.
 */
final class Console {

    private static final Pattern COMMAND = Pattern.compile("(?m)^(\\S+:\\S+)\\s");
    private static final Pattern EXIT = Pattern.compile("\\s*(?:exit|quit)(?:\\s+(\\d{1,3}))?\\s*");
    static final String PROMPT = "backplane> ";

    private Console() {
    }

    /** Reads and runs command lines until Ctrl-D or exit; returns exit's N, else 0. */
    static int run(ControlClient client, Path socket, Terminal terminal, Path history) throws IOException {
        LineReader reader = LineReaderBuilder.builder().terminal(terminal).appName("backplane")
                .completer(new ArgumentCompleter(new StringsCompleter(commands(client)), new Completers.FileNameCompleter()))
                .variable(LineReader.HISTORY_FILE, history)
                .build();
        PrintStream out = new PrintStream(terminal.output(), true, StandardCharsets.UTF_8);
        out.println("Connected to Backplane at " + socket + ". Type bp:help for the commands, Tab to complete,"
                + " exit or Ctrl-D to leave.");
        try {
            while (true) {
                String line;
                try {
                    line = reader.readLine(PROMPT);
                } catch (UserInterruptException e) {
                    continue; // Ctrl-C: a fresh line
                } catch (EndOfFileException e) {
                    return 0;
                }
                Matcher exit = EXIT.matcher(line);
                if (exit.matches()) {
                    return exit.group(1) != null ? Integer.parseInt(exit.group(1)) : 0;
                }
                if (!line.isBlank()) {
                    client.run(line, out, out);
                }
            }
        } finally {
            reader.getHistory().save();
        }
    }

    /** The command names bp:help lists; none when it fails (completion then offers file names only). */
    static List<String> commands(ControlClient client) throws IOException {
        ByteArrayOutputStream help = new ByteArrayOutputStream();
        List<String> names = new ArrayList<>();
        if (client.run("bp:help", help, OutputStream.nullOutputStream()) == 0) {
            Matcher m = COMMAND.matcher(help.toString(StandardCharsets.UTF_8));
            while (m.find()) {
                names.add(m.group(1));
            }
        }
        return names;
    }
}
