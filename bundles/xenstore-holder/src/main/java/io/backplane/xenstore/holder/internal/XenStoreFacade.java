package io.backplane.xenstore.holder.internal;

import io.backplane.api.xenstore.XenStore;
import io.backplane.api.xenstore.XsError;
import io.backplane.api.xenstore.XsException;
import io.backplane.api.xenstore.XsOps;
import io.backplane.api.xenstore.XsTransaction;
import io.backplane.api.xenstore.XsWatch;
import io.backplane.api.xenstore.XsWatchListener;
import io.backplane.xenstore.holder.XenStoreHolder;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The XenStore service as its users see it, forwarding to whichever store is attached. Between a
 * detach with a hand-over and the next attach (a XenStore bundle update) calls wait, up to
 * {@link #ATTACH_WAIT_SECONDS}; in-process watches are registered again on the new store, whose
 * initial event tells each watcher to look again (Xen lets a watch fire spuriously, never miss).
 * A transaction begun on the old store fails with EAGAIN, so {@link XenStore#transaction} retries it
 * on the new one.
 */
@Component(service = XenStoreHolder.class, immediate = true)
public final class XenStoreFacade implements XenStoreHolder, XenStore, ForwardingOps {
    /** How long a call waits for an updated XenStore bundle to attach its store. */
    static final long ATTACH_WAIT_SECONDS = 60;
    /** How long a detach waits for calls already in the old store to return. */
    static final long DRAIN_WAIT_MILLIS = 5000;

    private final BundleContext context;
    private final Object lock = new Object();
    private final List<ForwardedWatch> watches = new CopyOnWriteArrayList<>();
    /** Guarded by lock: the attached store (null while detached), calls inside it, the kept hand-over. */
    private XenStore current;
    private int inFlight;
    private Map<String, Object> handOver = Map.of();
    private ServiceRegistration<XenStore> registration;

    @Activate
    public XenStoreFacade(BundleContext context) {
        this.context = context;
    }

    /**
     * The holder itself stops (the runtime stops, or it was updated after all): users go first,
     * while an attached store still answers them; a hand-over nobody took is closed.
     */
    @Deactivate
    void deactivate() {
        ServiceRegistration<XenStore> r;
        synchronized (lock) {
            r = registration;
            registration = null;
        }
        if (r != null) {
            r.unregister();
        }
        synchronized (lock) {
            current = null;
            closeAll(handOver.values());
            handOver = Map.of();
            lock.notifyAll();
        }
    }

    // ---- XenStoreHolder

    @Override
    public Map<String, Object> takeHandOver() {
        synchronized (lock) {
            Map<String, Object> h = handOver;
            handOver = Map.of();
            return h;
        }
    }

    @Override
    public void attach(XenStore store) {
        boolean register;
        synchronized (lock) {
            current = store;
            register = registration == null;
            lock.notifyAll();
        }
        for (ForwardedWatch w : watches) {
            w.rebind(store);
        }
        if (register) {
            ServiceRegistration<XenStore> r = context.registerService(XenStore.class, this, null);
            synchronized (lock) {
                registration = r;
            }
        }
    }

    @Override
    public void detach(XenStore store, Supplier<Map<String, Object>> state) {
        ServiceRegistration<XenStore> unregister = null;
        synchronized (lock) {
            if (current != store) {
                return;
            }
            if (state == null) {
                // For good: users go with the service, as they would with no holder (watches die with the store).
                unregister = registration;
                registration = null;
            }
        }
        if (unregister != null) {
            unregister.unregister(); // users leave while the store still answers them
        }
        synchronized (lock) {
            current = null;
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(DRAIN_WAIT_MILLIS);
            try {
                long left;
                while (inFlight > 0 && (left = end - System.nanoTime()) > 0) {
                    lock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (state == null) {
                watches.clear();
                lock.notifyAll(); // waiting calls fail: no store will come
                return;
            }
            for (ForwardedWatch w : watches) {
                w.unbind();
            }
            handOver = Map.copyOf(state.get());
        }
    }

    // ---- the forwarding

    private XenStore enter() {
        synchronized (lock) {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(ATTACH_WAIT_SECONDS);
            while (current == null) {
                long left = end - System.nanoTime();
                if (registration == null || left <= 0) {
                    throw new XsException(XsError.EIO, registration == null ? "the XenStore service is stopped"
                            : "the XenStore bundle did not come back within " + ATTACH_WAIT_SECONDS + " s");
                }
                try {
                    lock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new XsException(XsError.EIO, "interrupted while the XenStore bundle was being updated");
                }
            }
            inFlight++;
            return current;
        }
    }

    private void leave() {
        synchronized (lock) {
            if (--inFlight == 0) {
                lock.notifyAll();
            }
        }
    }

    private <T> T call(Function<XenStore, T> f) {
        XenStore s = enter();
        try {
            return f.apply(s);
        } finally {
            leave();
        }
    }

    private void run(Consumer<XenStore> f) {
        call(s -> {
            f.accept(s);
            return null;
        });
    }

    @Override
    public <T> T on(Function<XsOps, T> op) {
        return call(op::apply);
    }

    @Override
    public XsTransaction begin() {
        return call(s -> new ForwardedTransaction(s, s.begin()));
    }

    @Override
    public XsWatch watch(String path, String token, XsWatchListener listener) {
        ForwardedWatch w = new ForwardedWatch(path, token, listener);
        watches.add(w);
        try {
            run(w::rebind);
        } catch (RuntimeException e) {
            watches.remove(w);
            throw e;
        }
        return w;
    }

    @Override
    public String getDomainPath(int domid) {
        return call(s -> s.getDomainPath(domid));
    }

    @Override
    public void introduceDomain(int domid, long storeGfn, int storeEventChannel) {
        run(s -> s.introduceDomain(domid, storeGfn, storeEventChannel));
    }

    @Override
    public void releaseDomain(int domid) {
        run(s -> s.releaseDomain(domid));
    }

    @Override
    public boolean isDomainIntroduced(int domid) {
        return call(s -> s.isDomainIntroduced(domid));
    }

    @Override
    public void setTarget(int domid, int targetDomid) {
        run(s -> s.setTarget(domid, targetDomid));
    }

    /** A watch that outlives the store it was registered on. */
    private final class ForwardedWatch implements XsWatch {
        private final String path;
        private final String token;
        private final XsWatchListener listener;
        private XsWatch registered;
        private boolean closed;

        ForwardedWatch(String path, String token, XsWatchListener listener) {
            this.path = path;
            this.token = token;
            this.listener = listener;
        }

        /** Registers on {@code store} unless registered already (a watch made while attaching). */
        synchronized void rebind(XenStore store) {
            if (!closed && registered == null) {
                registered = store.watch(path, token, listener);
            }
        }

        /** The store it was on is gone (and its watches with it). */
        synchronized void unbind() {
            registered = null;
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
        public void close() {
            watches.remove(this);
            XsWatch r;
            synchronized (this) {
                closed = true;
                r = registered;
                registered = null;
            }
            if (r != null) {
                r.close();
            }
        }
    }

    /** A transaction tied to the store it began on: after an update it can only fail with EAGAIN. */
    private final class ForwardedTransaction implements XsTransaction, ForwardingOps {
        private final XenStore store;
        private final XsTransaction tx;

        ForwardedTransaction(XenStore store, XsTransaction tx) {
            this.store = store;
            this.tx = tx;
        }

        @Override
        public <T> T on(Function<XsOps, T> op) {
            XenStore s = enter();
            try {
                if (s != store) {
                    throw new XsException(XsError.EAGAIN, "the XenStore bundle was updated during this transaction");
                }
                return op.apply(tx);
            } finally {
                leave();
            }
        }

        @Override
        public void commit() {
            on(ops -> {
                tx.commit();
                return null;
            });
        }

        @Override
        public void abort() {
            boolean same;
            synchronized (lock) {
                same = current == store;
            }
            if (same) {
                tx.abort(); // else it went with the old store
            }
        }
    }

    /** Closes the channels of a hand-over nobody took (the runtime stops while the XenStore bundle is away). */
    private static void closeAll(Collection<?> values) {
        for (Object v : values) {
            if (v instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // closing anyway
                }
            } else if (v instanceof Map<?, ?> m) {
                closeAll(m.values());
            } else if (v instanceof Collection<?> c) {
                closeAll(c);
            }
        }
    }
}
