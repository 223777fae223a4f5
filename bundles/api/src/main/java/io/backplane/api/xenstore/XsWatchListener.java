package io.backplane.api.xenstore;

/**
 * Receives WATCH_EVENTs. Called on the connection's event thread, one event at a time, in the
 * order the store fired them; a listener must not block for long.
 */
@FunctionalInterface
public interface XsWatchListener {
    /** {@code path} is the node that changed (or the watched path itself on registration). */
    void onWatchEvent(String path, String token);
}
