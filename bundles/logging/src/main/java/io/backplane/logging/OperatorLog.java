package io.backplane.logging;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.log.LogEntry;
import org.osgi.service.log.LogLevel;
import org.osgi.service.log.LogListener;
import org.osgi.service.log.LogReaderService;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;
import org.osgi.service.metatype.annotations.Designate;

/**
 * Listens to the OSGi log and writes every entry as one operator-readable line to
 * {@code <state dir>/backplane.log} and to the console. Entries logged before this component
 * started (the log service keeps a history) are written first, so nothing from startup is lost.
 */
@Component(configurationPid = "io.backplane.logging", immediate = true, service = {})
@Designate(ocd = LoggingConfig.class)
public class OperatorLog implements LogListener {

    static final String STATE_DIR_PROPERTY = "backplane.state.dir";

    private final LogReaderService reader;
    private final LogLineFormat format = new LogLineFormat(ZoneId.systemDefault());
    private final PrintStream console = System.out;
    private final Path file;
    private final BufferedWriter out;
    private final LogLevel fileLevel;
    private final LogLevel consoleLevel;
    private final boolean frameworkEvents;
    /** Highest sequence number already written; the listener skips entries the replay covered. */
    private long written = -1;

    @Activate
    public OperatorLog(@Reference LogReaderService reader, @Reference(service = LoggerFactory.class) Logger log,
                       BundleContext context, LoggingConfig config) throws IOException {
        this.reader = reader;
        String stateDir = context.getProperty(STATE_DIR_PROPERTY);
        if (stateDir == null || stateDir.isBlank()) {
            throw new IllegalStateException("framework property " + STATE_DIR_PROPERTY + " is not set; the launcher sets it");
        }
        this.fileLevel = level(config.file_level());
        this.consoleLevel = level(config.console_level());
        this.frameworkEvents = config.framework_events();
        this.file = Path.of(stateDir).resolve(config.file_name());
        Files.createDirectories(file.getParent());
        this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        synchronized (this) {
            reader.addLogListener(this);
            for (LogEntry entry : history()) {
                write(entry);
            }
            flush();
        }
        // Marks where this run starts in a file that accumulates runs.
        log.info("operator log {} opened for state dir {} (file level {}, console level {})", file, stateDir, fileLevel, consoleLevel);
    }

    @Deactivate
    void deactivate() throws IOException {
        reader.removeLogListener(this);
        synchronized (this) {
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
        if (entry.getSequence() <= written) {
            return;
        }
        written = entry.getSequence();
        if (!frameworkEvents && isFrameworkEvent(entry) && !LogLevel.WARN.implies(entry.getLogLevel())) {
            return;
        }
        String line = format.line(entry);
        if (fileLevel.implies(entry.getLogLevel())) {
            try {
                out.write(line);
                out.newLine();
                out.write(format.stackTrace(entry));
            } catch (IOException e) {
                // The console is the only place left to say it; do not throw into the log service.
                console.println("backplane-logging: cannot write " + file + ": " + e.getMessage());
            }
        }
        if (consoleLevel.implies(entry.getLogLevel())) {
            console.println(line);
        }
    }

    private void flush() {
        try {
            out.flush();
        } catch (IOException e) {
            console.println("backplane-logging: cannot write " + file + ": " + e.getMessage());
        }
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
