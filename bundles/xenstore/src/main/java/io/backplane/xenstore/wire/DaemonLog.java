package io.backplane.xenstore.wire;

/** Where the daemon reports what happened to which connection; the OSGi component bridges it to the LogService. */
public interface DaemonLog {
    void info(String message);

    void warn(String message);

    /** Logs to stderr; for tests and the benchmark. */
    DaemonLog STDERR = new DaemonLog() {
        @Override
        public void info(String message) {
        }

        @Override
        public void warn(String message) {
            System.err.println("xenstored: " + message);
        }
    };
}
