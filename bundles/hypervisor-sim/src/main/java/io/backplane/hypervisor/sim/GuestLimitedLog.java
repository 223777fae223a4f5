package io.backplane.hypervisor.sim;

import io.backplane.api.log.OperatorLog;
import io.backplane.api.log.SourceRateLimit;

/**
 * The sim's log with lines about guest misbehaviour rate-limited per domain: a guest hammering
 * its event channel socket with bad requests writes a few lines, then one that counts the rest.
 */
final class GuestLimitedLog implements OperatorLog {
    private final OperatorLog log;
    private final SourceRateLimit limit;

    GuestLimitedLog(OperatorLog log, SourceRateLimit limit) {
        this.log = log;
        this.limit = limit;
    }

    @Override
    public void info(String line) {
        log.info(line);
    }

    @Override
    public void warn(String line) {
        log.warn(line);
    }

    @Override
    public void error(String line, Throwable cause) {
        log.error(line, cause);
    }

    /** A line about what guest {@code domid} did wrong, held back when the guest floods. */
    void guestInfo(int domid, String line) {
        String admitted = limit.admit("domain " + domid, line);
        if (admitted != null) {
            log.info(admitted);
        }
    }

    /** As {@link #guestInfo}, at warning level. */
    void guestWarn(int domid, String line) {
        String admitted = limit.admit("domain " + domid, line);
        if (admitted != null) {
            log.warn(admitted);
        }
    }
}
