package io.backplane.xenstore.store;

import io.backplane.api.xenstore.XsError;
import io.backplane.api.xenstore.XsException;

import java.nio.charset.StandardCharsets;

/**
 * The sizes xs_wire and C xenstored allow ({@code xs_wire.h}), defined once. The store checks
 * every request against them, so the wire, the in-process dom0 client and the shell commands
 * are held to the same limits; quotas (per domain) are {@link Quotas}.
 */
public final class Limits {
    /** XENSTORE_PAYLOAD_MAX: the largest payload of a request or a reply. */
    public static final int PAYLOAD_MAX = 4096;
    /** XENSTORE_ABS_PATH_MAX: the longest absolute path. */
    public static final int ABS_PATH_MAX = 3072;
    /** XENSTORE_REL_PATH_MAX: the longest path below {@code /local/domain/N/}, and of a special watch path. */
    public static final int REL_PATH_MAX = 2048;

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
        if (bound <= PAYLOAD_MAX) {
            return;
        }
        long size = rawBytes;
        for (String s : strings) {
            size += s.getBytes(StandardCharsets.UTF_8).length + 1L;
        }
        if (size > PAYLOAD_MAX) {
            throw new XsException(XsError.E2BIG, "request of " + size + " bytes is over xs_wire's "
                    + PAYLOAD_MAX + "-byte limit");
        }
    }
}
