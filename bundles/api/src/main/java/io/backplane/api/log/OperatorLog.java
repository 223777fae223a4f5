package io.backplane.api.log;

import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * The one logging port: where a component says what happened to which device, domain or
 * connection, in operator words. In the runtime a DS component hands its OSGi {@code Logger}
 * over ({@code OperatorLog.of(logger::info, logger::warn, logger::error)}), and the logging
 * bundle writes what the OSGi log gets to the operator's file and console; outside a framework
 * (tests, benchmarks) {@link #lines} keeps the lines and {@link #stderr} prints them.
 */
public interface OperatorLog {

    void info(String line);

    void warn(String line);

    /** A failure; {@code cause}, when not null, gives its stack trace. */
    void error(String line, Throwable cause);

    /** This log with {@code prefix} before every line (a device's or a frontend's name). */
    default OperatorLog prefixed(String prefix) {
        return of(line -> info(prefix + line), line -> warn(prefix + line), (line, cause) -> error(prefix + line, cause));
    }

    /** From a logger's three methods (OSGi's Logger: {@code logger::info, logger::warn, logger::error}). */
    static OperatorLog of(Consumer<String> info, Consumer<String> warn, BiConsumer<String, Throwable> error) {
        return new OperatorLog() {
            @Override
            public void info(String line) {
                info.accept(line);
            }

            @Override
            public void warn(String line) {
                warn.accept(line);
            }

            @Override
            public void error(String line, Throwable cause) {
                error.accept(line, cause);
            }
        };
    }

    /** Every level as one stream of lines (a failure's cause appended), for tools and tests that keep them. */
    static OperatorLog lines(Consumer<String> sink) {
        return of(sink, sink, (line, cause) -> sink.accept(cause == null ? line : line + " (" + cause + ")"));
    }

    /** Every level on stderr as {@code [source] line}, {@code [source] WARN line}: outside a framework. */
    static OperatorLog stderr(String source) {
        String prefix = "[" + source + "] ";
        return of(line -> System.err.println(prefix + line), line -> System.err.println(prefix + "WARN " + line),
                (line, cause) -> System.err.println(prefix + "ERROR " + line + (cause == null ? "" : " (" + cause + ")")));
    }

    /** Warnings and errors only on stderr, as {@code source: line}: for a chatty service in tests and benchmarks. */
    static OperatorLog stderrWarnings(String source) {
        Consumer<String> err = line -> System.err.println(source + ": " + line);
        return of(line -> { }, err, (line, cause) -> err.accept(cause == null ? line : line + " (" + cause + ")"));
    }
}
