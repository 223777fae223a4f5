package io.backplane.xs.client;

import io.backplane.api.xenstore.XsWatchListener;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;

/**
 * Delivers a connection's WATCH_EVENTs to listeners on one event thread, in arrival order.
 * An event goes to every registration with its token whose path covers the event path (the
 * store sends one event per matching watch, so watches sharing a token should not overlap).
 */
public final class WatchDispatcher {
    public record Registration(String path, String token, XsWatchListener listener) {
        boolean matches(String eventPath, String eventToken) {
            if (!token.equals(eventToken)) {
                return false;
            }
            if (path.equals(eventPath)) {
                return true;
            }
            if (path.startsWith("@")) {
                return false;
            }
            return path.equals("/") ? eventPath.startsWith("/") : eventPath.startsWith(path + "/");
        }
    }

    private final List<Registration> registrations = new CopyOnWriteArrayList<>();
    private final ExecutorService thread;

    public WatchDispatcher(String name) {
        thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
    }

    public Registration add(String path, String token, XsWatchListener listener) {
        Registration r = new Registration(path, token, listener);
        registrations.add(r);
        return r;
    }

    public void remove(Registration r) {
        registrations.remove(r);
    }

    public void dispatch(String path, String token) {
        try {
            thread.execute(() -> {
                for (Registration r : registrations) {
                    if (r.matches(path, token)) {
                        try {
                            r.listener().onWatchEvent(path, token);
                        } catch (RuntimeException e) {
                            // One failing listener must not stop the others' events.
                            System.err.println("XenStore watch listener for " + r.path() + " failed: " + e);
                        }
                    }
                }
            });
        } catch (RejectedExecutionException e) {
            // closed: events after close are dropped
        }
    }

    public void close() {
        registrations.clear();
        thread.shutdownNow();
    }
}
