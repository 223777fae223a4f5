package io.backplane.backend;

/**
 * Where the xenbus core says what happened to which device, in operator words. The DS component
 * sends it to the OSGi log; tests keep the lines to assert on them.
 */
public interface OperatorLog {

    void info(String line);

    void warn(String line);

    void error(String line, Throwable cause);
}
