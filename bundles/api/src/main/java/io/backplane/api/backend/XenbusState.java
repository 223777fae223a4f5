package io.backplane.api.backend;

/** {@code enum xenbus_state} (xenbus.h); XenStore holds the value as a decimal string. */
public enum XenbusState {
    UNKNOWN(0),
    INITIALISING(1),
    /** Finished early initialisation, waiting for the peer or hotplug scripts. */
    INIT_WAIT(2),
    /** Waiting for a connection from the peer. */
    INITIALISED(3),
    CONNECTED(4),
    /** The device is being closed because of an error or an unplug. */
    CLOSING(5),
    CLOSED(6),
    /** The device is being reconfigured. */
    RECONFIGURING(7),
    RECONFIGURED(8);

    private final int code;

    XenbusState(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The state in xenbus.h's words ({@code XenbusStateInitWait} without the prefix), as pv:devices shows it. */
    public String displayName() {
        StringBuilder b = new StringBuilder();
        for (String word : name().split("_")) {
            b.append(word.charAt(0)).append(word.substring(1).toLowerCase(java.util.Locale.ROOT));
        }
        return b.toString();
    }

    /** The decimal string written to a {@code state} node. */
    public String wire() {
        return Integer.toString(code);
    }

    public static XenbusState ofCode(int code) {
        if (code < 0 || code >= values().length) {
            throw new IllegalArgumentException("no XenbusState has code " + code);
        }
        return values()[code];
    }

    /**
     * The state a {@code state} node holds. Like Linux's xenbus_read_driver_state, a missing
     * (null) or unparsable value reads as {@link #UNKNOWN}; an out-of-range number is an error.
     */
    public static XenbusState ofWire(String value) {
        if (value == null) {
            return UNKNOWN;
        }
        int code;
        try {
            code = Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            return UNKNOWN;
        }
        return ofCode(code);
    }
}
