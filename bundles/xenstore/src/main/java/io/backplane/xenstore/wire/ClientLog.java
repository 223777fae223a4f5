package io.backplane.xenstore.wire;

import io.backplane.api.log.OperatorLog;
import io.backplane.api.log.SourceRateLimit;

/**
 * The daemon's log for what clients do wrong: lines about one source (a guest domain, or dom0's
 * socket clients together) are rate-limited, so a misbehaving guest cannot flood the operator
 * log, and the next line let through counts what was held back.
 */
final class ClientLog {
    private final OperatorLog log;
    private final SourceRateLimit limit;

    ClientLog(OperatorLog log, SourceRateLimit limit) {
        this.log = log;
        this.limit = limit;
    }

    /** How the operator knows the client: a guest by its domain, dom0's local clients as one. */
    static String source(int domid, boolean privileged) {
        return privileged ? "dom0's socket clients" : "domain " + domid;
    }

    void warn(String source, String line) {
        String admitted = limit.admit(source, line);
        if (admitted != null) {
            log.warn(admitted);
        }
    }

    void info(String source, String line) {
        String admitted = limit.admit(source, line);
        if (admitted != null) {
            log.info(admitted);
        }
    }
}
