package io.backplane.backend;

import java.util.function.Consumer;

/**
 * Where the xenbus core says what happened to which device, in operator words. The DS component
 * sends it to the OSGi log; tests keep the lines to assert on them.
 */
public interface OperatorLog {

    void info(String line);

    void warn(String line);

    void error(String line, Throwable cause);

    /** Every level as one stream of lines (a failure's cause appended), for tools and tests that keep them. */
    static OperatorLog lines(Consumer<String> sink) {
        return new OperatorLog() {
            @Override
            public void info(String line) {
                sink.accept(line);
            }

            @Override
            public void warn(String line) {
                sink.accept(line);
            }

            @Override
            public void error(String line, Throwable cause) {
                sink.accept(cause == null ? line : line + " (" + cause + ")");
            }
        };
    }
}
