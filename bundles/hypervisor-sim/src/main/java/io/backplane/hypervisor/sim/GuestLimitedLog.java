package io.backplane.hypervisor.sim;

import io.backplane.api.log.SourceRateLimit;

/**
 * The sim's log with lines about guest misbehaviour rate-limited per domain: a guest hammering
 * its event channel socket with bad requests writes a few lines, then one that counts the rest.
 */
final class GuestLimitedLog implements SimLog {
    private final SimLog log;
    private final SourceRateLimit limit;

    GuestLimitedLog(SimLog log, SourceRateLimit limit) {
        this.log = log;
        this.limit = limit;
    }

    @Override
    public void info(String message) {
        log.info(message);
    }

    @Override
    public void warn(String message) {
        log.warn(message);
    }

    @Override
    public void guestInfo(int domid, String message) {
        String admitted = limit.admit("domain " + domid, message);
        if (admitted != null) {
            log.info(admitted);
        }
    }

    @Override
    public void guestWarn(int domid, String message) {
        String admitted = limit.admit("domain " + domid, message);
        if (admitted != null) {
            log.warn(admitted);
        }
    }
}
