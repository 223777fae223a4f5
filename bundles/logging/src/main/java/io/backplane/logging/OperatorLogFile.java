package io.backplane.logging;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.log.LogEntry;
import org.osgi.service.log.LogLevel;
import org.osgi.service.log.LogListener;
import org.osgi.service.log.LogReaderService;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;
import org.osgi.service.metatype.annotations.Designate;

/**
 * The one implementation behind the API's {@code OperatorLog} port: components hand their lines
 * to the OSGi log, and this listens to it and writes every entry as one operator-readable line to
 * {@code <state dir>/backplane.log} (rotated by size, {@link RotatingLogFile}) and to the
 * console. Entries logged before this component started (the log service keeps a history) are
 * written first, so nothing from startup is lost. Under systemd the console is the journal
 * ({@code JOURNAL_STREAM} set): each line goes there once, with its priority as a
 * {@code <N>} prefix and without the time the journal adds itself.
 */
@Component(configurationPid = "io.backplane.logging", immediate = true, service = {})
@Designate(ocd = LoggingConfig.class)
public class OperatorLogFile implements LogListener {

    static final String STATE_DIR_PROPERTY = "backplane.state.dir";

    private final LogReaderService reader;
    private final Logger log;
    private final LogLineFormat format = new LogLineFormat(ZoneId.systemDefault());
    private final PrintStream console = System.out;
    private final boolean journal = System.getenv("JOURNAL_STREAM") != null;
    private final Path stateDir;
    // Settings below change with the configuration (see modified); guarded by this.
    private RotatingLogFile out;
    private LogLevel fileLevel;
    private LogLevel consoleLevel;
    private boolean frameworkEvents;
    /**
     * Sequence numbers of the entries written lately, so an entry seen twice (in the replayed
     * history and from the listener) is written once. Not a high-water mark: the log service numbers
     * an entry before it queues it, so entries logged at the same moment on two threads may arrive
     * out of order, and the later-numbered one first must not hide the other.
     */
    private final java.util.Set<Long> written = java.util.Collections.newSetFromMap(new java.util.LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(java.util.Map.Entry<Long, Boolean> eldest) {
            return size() > WRITTEN_REMEMBERED;
        }
    });
    /** Far more than the log service's history, which is all a replay can write again. */
    private static final int WRITTEN_REMEMBERED = 16_384;
    private boolean closed;

    @Activate
    public OperatorLogFile(@Reference LogReaderService reader, @Reference(service = LoggerFactory.class) Logger log,
                       BundleContext context, LoggingConfig config) throws IOException {
        this.reader = reader;
        this.log = log;
        String dir = context.getProperty(STATE_DIR_PROPERTY);
        if (dir == null || dir.isBlank()) {
            throw new IllegalStateException("framework property " + STATE_DIR_PROPERTY + " is not set; the launcher sets it");
        }
        this.stateDir = Path.of(dir);
        synchronized (this) {
            configure(config);
            reader.addLogListener(this);
            for (LogEntry entry : history()) {
                write(entry);
            }
            flush();
        }
        // Marks where this run starts in a file that accumulates runs.
        log.info("operator log {} opened for state dir {} (file level {}, console level {})", out.file(), stateDir, fileLevel,
                consoleLevel);
    }

    /**
     * A changed configuration applies in place: re-activating would replay the log history into
     * the file a second time.
     */
    @Modified
    void modified(LoggingConfig config) throws IOException {
        synchronized (this) {
            configure(config);
        }
        log.info("operator log now {} (file level {}, console level {})", out.file(), fileLevel, consoleLevel);
    }

    private void configure(LoggingConfig config) throws IOException {
        LogLevel newFileLevel = level(config.file_level());
        LogLevel newConsoleLevel = level(config.console_level());
        Path newFile = stateDir.resolve(config.file_name());
        Files.createDirectories(newFile.getParent());
        // A new file, size or count takes a new appender; the old one is closed once the new one opened.
        RotatingLogFile newOut = new RotatingLogFile(newFile, config.file_max_size(), config.file_count(),
                problem -> console.println("backplane-logging: " + newFile + ": " + problem));
        if (out != null) {
            out.close();
        }
        out = newOut;
        fileLevel = newFileLevel;
        consoleLevel = newConsoleLevel;
        frameworkEvents = config.framework_events();
    }

    /**
     * The log service delivers to listeners on its own thread, so the last entries (bundles
     * saying they stopped) may still be queued: write them from the history before closing.
     */
    @Deactivate
    void deactivate() throws IOException {
        reader.removeLogListener(this);
        synchronized (this) {
            for (LogEntry entry : history()) {
                write(entry);
            }
            closed = true;
            out.close();
        }
    }

    @Override
    public synchronized void logged(LogEntry entry) {
        write(entry);
        flush();
    }

    /** The log service returns its history newest first; replay it oldest first. */
    private List<LogEntry> history() {
        List<LogEntry> entries = new ArrayList<>();
        for (Enumeration<LogEntry> e = reader.getLog(); e.hasMoreElements(); ) {
            entries.add(e.nextElement());
        }
        Collections.reverse(entries);
        return entries;
    }

    private void write(LogEntry entry) {
        if (closed || !written.add(entry.getSequence())) {
            return;
        }
        if (!frameworkEvents && isFrameworkEvent(entry) && !LogLevel.WARN.implies(entry.getLogLevel())) {
            return;
        }
        String line = format.line(entry);
        if (fileLevel.implies(entry.getLogLevel())) {
            // One write per entry, so a rotation never splits an entry from its stack trace.
            out.write(line + System.lineSeparator() + format.stackTrace(entry));
        }
        if (consoleLevel.implies(entry.getLogLevel())) {
            console.println(journal ? format.journalLine(entry) : line);
        }
    }

    private void flush() {
        console.flush();
    }

    private static boolean isFrameworkEvent(LogEntry entry) {
        String name = entry.getLoggerName();
        return name != null && name.startsWith("Events.");
    }

    private static LogLevel level(String name) {
        try {
            return LogLevel.valueOf(name.trim().toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown log level '" + name + "'; use TRACE, DEBUG, INFO, WARN, ERROR or AUDIT", e);
        }
    }
}
