package io.backplane.runtime.demo;

/** xenbus state numbers (xen/io/xenbus.h) in the words pv:devices uses. */
final class XenbusStates {

    private static final String[] NAMES = {"Unknown", "Initialising", "InitWait", "Initialised", "Connected", "Closing",
            "Closed", "Reconfiguring", "Reconfigured"};

    private XenbusStates() {
    }

    static String name(int state) {
        return state >= 0 && state < NAMES.length ? NAMES[state] + " (" + state + ")" : "state " + state;
    }
}
