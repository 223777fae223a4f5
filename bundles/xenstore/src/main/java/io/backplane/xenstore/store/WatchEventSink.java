package io.backplane.xenstore.store;

/**
 * Where the store delivers a connection's WATCH_EVENTs. Called with the store locked, in firing
 * order: implementations queue the event and return at once.
 */
@FunctionalInterface
public interface WatchEventSink {
    void watchEvent(String path, String token);
}
