package io.backplane.xenstore.store;

import io.backplane.api.xenstore.XsError;
import io.backplane.api.xenstore.XsException;
import io.backplane.xs.wire.XsWire;

import java.nio.charset.StandardCharsets;

/**
 * The store's check of xs_wire's sizes ({@link XsWire#PAYLOAD_MAX}): every request is held to
 * them, so the wire, the in-process dom0 client and the shell commands meet the same limits;
 * quotas (per domain) are {@link Quotas}.
 */
final class Limits {
    private Limits() {
    }

    /**
     * E2BIG when a request made of these NUL-terminated strings followed by {@code rawBytes}
     * would not fit one xs_wire payload: libxenstore refuses such a request before sending it,
     * and a daemon receiving one drops the connection, so no writer may get it in.
     */
    static void checkRequest(int rawBytes, String... strings) {
        long bound = rawBytes;
        for (String s : strings) {
            bound += 3L * s.length() + 1; // UTF-8 needs at most 3 bytes per char: most requests stop here
        }
        if (bound <= XsWire.PAYLOAD_MAX) {
            return;
        }
        long size = rawBytes;
        for (String s : strings) {
            size += s.getBytes(StandardCharsets.UTF_8).length + 1L;
        }
        if (size > XsWire.PAYLOAD_MAX) {
            throw new XsException(XsError.E2BIG, "request of " + size + " bytes is over xs_wire's "
                    + XsWire.PAYLOAD_MAX + "-byte limit");
        }
    }
}
