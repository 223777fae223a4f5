package io.backplane.hypervisor.sim;

import java.util.Map;

/**
 * The key names of the sim's hand-over to its updated successor (through the holder bundle,
 * {@link io.backplane.hypervisor.sim.holder.SimHypervisorHolder}). Values are JDK types, and the
 * objects of bundles not updated with the sim: the native bundle's mappings and the event
 * handlers dom0 code gave (the holder's).
 */
final class SimHandOver {
    /** System.nanoTime() when the hand-over began (one JVM, so the successor can say how long it took). */
    static final String BEGAN = "began";
    static final String NEXT_DOMID = "next-domid";
    static final String DOMAINS = "domains";
    /** Every event channel port: see {@link EventChannelSwitch#handOver}. */
    static final String PORTS = "ports";

    // a port
    static final String PORT = "port";
    static final String HANDLER = "handler";
    static final String EVENT = "event";

    // a domain
    static final String DOMID = "domid";
    static final String NAME = "name";
    static final String PAGES = "pages";
    static final String FRAMES = "grant-frames";
    static final String STATE = "state";
    static final String REASON = "shutdown-reason";
    static final String MEMORY_FD = "memory-fd";
    static final String GRANT_TABLE = "grant-table";
    static final String PINS = "pins";
    static final String REGIONS = "regions";
    static final String MAPPING = "mapping";
    static final String REFS = "refs";

    // its event channel socket
    static final String SERVER = "server";
    static final String CONNECTIONS = "connections";
    static final String TOKENS = "tokens";
    static final String ID = "id";
    static final String CHANNEL = "channel";
    static final String CONTROL = "control";
    static final String SHUTDOWN_SENT = "shutdown-sent";
    static final String REQUESTED = "requested";
    static final String PARTIAL = "partial";

    private SimHandOver() {
    }

    static boolean isHandOver(Map<String, Object> m) {
        return m != null && m.containsKey(DOMAINS);
    }
}
