package io.backplane.backend;

import io.backplane.api.ring.RingException;

/**
 * No registered ring strategy can serve a ring (none registered, or every one refuses it, as
 * whole-memory refuses an untrusted domain). A device meeting it at connect waits in InitWait for
 * the next strategy rather than failing, as while strategy bundles are refreshed.
 */
final class NoFittingStrategyException extends RingException {
    private static final long serialVersionUID = 1L;

    NoFittingStrategyException(String message) {
        super(message);
    }

    /** Whether {@code e} or one of its causes is this exception. */
    static boolean in(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof NoFittingStrategyException) {
                return true;
            }
        }
        return false;
    }
}
