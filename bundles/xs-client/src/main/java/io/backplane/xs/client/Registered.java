package io.backplane.xs.client;

import io.backplane.api.xenstore.XsException;
import io.backplane.api.xenstore.XsWatch;

/** A watch handle: closing it sends UNWATCH once and stops delivery to its listener. */
public final class Registered implements XsWatch {
    private final String path;
    private final String token;
    private final WatchDispatcher.Registration registration;
    private final Runnable unwatch;
    private final WatchDispatcher dispatcher;
    private boolean closed;

    public Registered(String path, String token, WatchDispatcher.Registration registration, Runnable unwatch,
               WatchDispatcher dispatcher) {
        this.path = path;
        this.token = token;
        this.registration = registration;
        this.unwatch = unwatch;
        this.dispatcher = dispatcher;
    }

    @Override
    public String path() {
        return path;
    }

    @Override
    public String token() {
        return token;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        dispatcher.remove(registration);
        try {
            unwatch.run();
        } catch (XsException e) {
            // The store already dropped it (connection reset or domain released).
        }
    }
}
