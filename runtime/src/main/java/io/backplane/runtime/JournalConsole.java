package io.backplane.runtime;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The launcher's console. Under systemd ({@code JOURNAL_STREAM} set: stdout is the journal) a
 * line saying {@code warning: ...} gets sd-daemon's {@code <4>} prefix, so the journal files it
 * as a warning; every other line is info, the journal's default. Elsewhere lines go out as they are.
 */
final class JournalConsole extends PrintStream {

    static final String WARNING = "warning: ";
    private static final String JOURNAL_WARNING = "<4>";

    private JournalConsole(PrintStream out) {
        super(out, true, StandardCharsets.UTF_8);
    }

    static PrintStream of(PrintStream out, Map<String, String> env) {
        return env.containsKey("JOURNAL_STREAM") ? new JournalConsole(out) : out;
    }

    @Override
    public void println(String line) {
        super.println(line != null && line.startsWith(WARNING) ? JOURNAL_WARNING + line : line);
    }
}
