package io.backplane.hypervisor.sim;

/** Where the sim's operator messages go: the OSGi log in the runtime, stderr in plain tests. */
interface SimLog {
    void info(String message);

    void warn(String message);

    /** A line about what guest {@code domid} did wrong; {@link GuestLimitedLog} holds floods back. */
    default void guestInfo(int domid, String message) {
        info(message);
    }

    /** As {@link #guestInfo}, at warning level. */
    default void guestWarn(int domid, String message) {
        warn(message);
    }

    /** Writes to stderr, for use outside OSGi. */
    static SimLog stderr() {
        return new SimLog() {
            @Override
            public void info(String message) {
                System.err.println("[sim] " + message);
            }

            @Override
            public void warn(String message) {
                System.err.println("[sim] WARN " + message);
            }
        };
    }
}
