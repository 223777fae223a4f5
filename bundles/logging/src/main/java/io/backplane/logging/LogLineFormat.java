package io.backplane.logging;

import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

import org.osgi.framework.Bundle;
import org.osgi.service.log.LogEntry;

/**
 * Turns a log entry into the one line an operator reads:
 * {@code 2026-11-22 01:50:00.123 INFO  control ControlSocket: listening on /run/backplane/control.sock}.
 * The exception, if any, is summarised on the same line as its cause chain; the stack trace is
 * rendered separately so the file can keep it without cluttering the console.
 */
final class LogLineFormat {

    private static final String BUNDLE_PREFIX = "backplane-";

    private final DateTimeFormatter time;

    LogLineFormat(ZoneId zone) {
        this.time = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS").withZone(zone);
    }

    String line(LogEntry entry) {
        StringBuilder line = new StringBuilder(160);
        line.append(time.format(Instant.ofEpochMilli(entry.getTime()))).append(' ');
        line.append(String.format("%-5s", entry.getLogLevel().name())).append(' ');
        line.append(source(entry)).append(": ");
        line.append(oneLine(entry.getMessage()));
        Throwable error = entry.getException();
        if (error != null) {
            line.append(" (").append(causeChain(error)).append(')');
        }
        return line.toString();
    }

    /**
     * The line for the journal: sd-daemon's {@code <N>} syslog priority first (3 error, 4
     * warning, 5 notice for AUDIT, 6 info, 7 debug), no time (the journal stamps each line).
     */
    String journalLine(LogEntry entry) {
        String line = line(entry);
        return "<" + priority(entry.getLogLevel()) + ">" + line.substring(line.indexOf(' ', line.indexOf(' ') + 1) + 1);
    }

    static int priority(org.osgi.service.log.LogLevel level) {
        return switch (level) {
            case AUDIT -> 5;
            case ERROR -> 3;
            case WARN -> 4;
            case INFO -> 6;
            case DEBUG, TRACE -> 7;
        };
    }

    /** Stack trace lines, indented, for the log file only; empty when the entry has no exception. */
    String stackTrace(LogEntry entry) {
        Throwable error = entry.getException();
        if (error == null) {
            return "";
        }
        StringBuilder trace = new StringBuilder();
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            trace.append(t == error ? "    " : "    caused by ").append(t).append('\n');
            for (StackTraceElement frame : t.getStackTrace()) {
                trace.append("        at ").append(frame).append('\n');
            }
        }
        return trace.toString();
    }

    /** Bundle (without the common backplane- prefix) and the simple name of the logger. */
    private static String source(LogEntry entry) {
        Bundle bundle = entry.getBundle();
        String bsn = bundle == null || bundle.getSymbolicName() == null ? "framework" : bundle.getSymbolicName();
        if (bsn.startsWith(BUNDLE_PREFIX)) {
            bsn = bsn.substring(BUNDLE_PREFIX.length());
        }
        String logger = entry.getLoggerName();
        // Bundles logging through the classic LogService, or to the root logger, name no logger of their own.
        if (logger == null || logger.isEmpty() || logger.startsWith("LogService") || logger.equals("ROOT")
                || logger.equals(bundle == null ? null : bundle.getSymbolicName())) {
            return bsn;
        }
        return bsn + ' ' + logger.substring(logger.lastIndexOf('.') + 1);
    }

    static String causeChain(Throwable error) {
        StringBuilder chain = new StringBuilder();
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (chain.length() > 0) {
                chain.append(" <- ");
            }
            chain.append(t.getClass().getSimpleName());
            if (t.getMessage() != null) {
                chain.append(": ").append(oneLine(t.getMessage()));
            }
        }
        return chain.toString();
    }

    private static String oneLine(String text) {
        return text == null ? "" : text.replace("\r", "").replace('\n', ' ');
    }
}
