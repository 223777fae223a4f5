package io.backplane.hypervisor.sim.holder.internal;

import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.hypervisor.DomainInfo;
import io.backplane.api.hypervisor.Domains;
import io.backplane.api.hypervisor.EventChannel;
import io.backplane.api.hypervisor.EventChannels;
import io.backplane.api.hypervisor.EventHandler;
import io.backplane.api.hypervisor.ForeignMemory;
import io.backplane.api.hypervisor.GrantCopy;
import io.backplane.api.hypervisor.GrantMapping;
import io.backplane.api.hypervisor.GrantTables;
import io.backplane.api.hypervisor.HypervisorException;
import io.backplane.api.hypervisor.MappedRegion;
import io.backplane.hypervisor.sim.holder.SimHypervisorHolder;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The sim's services as their users see them, forwarding to whichever sim is attached. Between a
 * detach with a hand-over and the next attach (a sim bundle update) calls wait, up to
 * {@link #ATTACH_WAIT_SECONDS}. Every event channel and mapping handed out is wrapped
 * ({@link ForwardedChannel}, {@link ForwardedRegion}) and, at the next attach, pointed at the
 * successor's object for the same dom0 port or address.
 */
@Component(service = SimHypervisorHolder.class, immediate = true)
public final class SimHypervisorFacade implements SimHypervisorHolder, Domains, GrantTables, ForeignMemory, EventChannels {
    /** How long a call waits for an updated sim bundle to attach. */
    static final long ATTACH_WAIT_SECONDS = 60;
    /** How long a detach waits for calls already in the old sim to return. */
    static final long DRAIN_WAIT_MILLIS = 5000;

    private final BundleContext context;
    private final Object lock = new Object();
    /** The sim this thread is calling into, while it is. */
    private final ThreadLocal<Hypervisor> inside = new ThreadLocal<>();
    /** dom0's channels and mappings handed out and not closed, by dom0 port and by address. */
    private final Map<Integer, ForwardedChannel> channels = new ConcurrentHashMap<>();
    private final Map<Long, ForwardedRegion> regions = new ConcurrentHashMap<>();
    /**
     * The attached sim (null while detached) and the calls inside it: this is on every notify,
     * unmask, map and unmap of the data path, so a call takes no lock. A call counts itself in,
     * then checks the sim is still attached; a detach clears the sim, then waits for the count to
     * reach zero: with both sequentially consistent, one of them sees the other.
     */
    private volatile Hypervisor current;
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile boolean draining;
    /** Guarded by lock: the kept hand-over, the registration. */
    private Map<String, Object> handOver = Map.of();
    private ServiceRegistration<?> registration;

    @Activate
    public SimHypervisorFacade(BundleContext context) {
        this.context = context;
    }

    /** The holder itself stops (the runtime stops): users go first; a hand-over nobody took is closed. */
    @Deactivate
    void deactivate() {
        ServiceRegistration<?> r;
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

    // ---- SimHypervisorHolder

    @Override
    public Map<String, Object> takeHandOver() {
        synchronized (lock) {
            Map<String, Object> h = handOver;
            handOver = Map.of();
            return h;
        }
    }

    @Override
    public void attach(Hypervisor hypervisor) {
        boolean register;
        synchronized (lock) {
            // Before the waiting calls go on: each of them must find its channel's or mapping's successor.
            channels.values().removeIf(c -> !c.rebind(hypervisor));
            regions.values().removeIf(r -> !r.rebind(hypervisor));
            current = hypervisor;
            register = registration == null;
            lock.notifyAll();
        }
        if (register) {
            Dictionary<String, Object> props = new Hashtable<>();
            props.put("backplane.hypervisor", "sim");
            ServiceRegistration<?> r = context.registerService(new String[] {Domains.class.getName(), GrantTables.class.getName(),
                    ForeignMemory.class.getName(), EventChannels.class.getName()}, this, props);
            synchronized (lock) {
                registration = r;
            }
        }
    }

    @Override
    public void detach(Hypervisor hypervisor, Supplier<Map<String, Object>> state) {
        ServiceRegistration<?> unregister = null;
        synchronized (lock) {
            if (current != hypervisor) {
                return;
            }
            if (state == null) {
                unregister = registration;
                registration = null;
            }
        }
        if (unregister != null) {
            unregister.unregister(); // users leave while the sim still answers them
        }
        synchronized (lock) {
            draining = true;
            current = null;
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(DRAIN_WAIT_MILLIS);
            try {
                long left;
                while (inFlight.get() > 0 && (left = end - System.nanoTime()) > 0) {
                    lock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                draining = false;
            }
            if (state == null) {
                channels.clear();
                regions.clear();
                lock.notifyAll(); // waiting calls fail: no sim will come
                return;
            }
            handOver = Map.copyOf(state.get());
        }
    }

    // ---- the forwarding

    private Hypervisor enter() {
        while (true) {
            Hypervisor h = current;
            if (h != null) {
                inFlight.incrementAndGet();
                if (current == h) {
                    return h;
                }
                leave(); // a detach began meanwhile: wait for the next sim
            }
            awaitAttach();
        }
    }

    private void awaitAttach() {
        synchronized (lock) {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(ATTACH_WAIT_SECONDS);
            while (current == null) {
                long left = end - System.nanoTime();
                if (registration == null || left <= 0) {
                    throw new HypervisorException("EIO", registration == null ? "the simulated hypervisor is stopped"
                            : "the simulated hypervisor bundle did not come back within " + ATTACH_WAIT_SECONDS + " s");
                }
                try {
                    lock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new HypervisorException("EIO", "interrupted while the simulated hypervisor bundle was being updated");
                }
            }
        }
    }

    private void leave() {
        if (inFlight.decrementAndGet() == 0 && draining) {
            synchronized (lock) {
                lock.notifyAll();
            }
        }
    }

    <T> T call(Function<Hypervisor, T> f) {
        Hypervisor outer = inside.get();
        if (outer != null) {
            // A handler run by the sim inside a call (an unmask delivering a pending event) calls
            // again: it belongs to the call already counted, which a detach is waiting for.
            return f.apply(outer);
        }
        Hypervisor h = enter();
        inside.set(h);
        try {
            return f.apply(h);
        } finally {
            inside.remove();
            leave();
        }
    }

    /** Waits while no sim is attached (a hand-over in progress), without counting as a call in it. */
    void awaitAttached() {
        if (inside.get() == null && current == null) {
            awaitAttach();
        }
    }

    // ---- Domains

    @Override
    public DomainInfo create(DomainConfig config) {
        return call(h -> h.create(config));
    }

    @Override
    public void destroy(int domid) {
        call(h -> {
            h.destroy(domid);
            return null;
        });
    }

    @Override
    public List<DomainInfo> list() {
        return call(Domains::list);
    }

    @Override
    public Optional<DomainInfo> info(int domid) {
        return call(h -> h.info(domid));
    }

    // ---- GrantTables, ForeignMemory

    @Override
    public GrantMapping map(int domid, int[] refs, boolean writable) {
        return (GrantMapping) track(call(h -> new ForwardedRegion.Grants(this, h.map(domid, refs, writable))));
    }

    @Override
    public void unmap(Collection<? extends GrantMapping> mappings) {
        call(h -> {
            List<GrantMapping> inner = new ArrayList<>(mappings.size());
            for (GrantMapping m : mappings) {
                if (m instanceof ForwardedRegion f) {
                    if (f.forget()) {
                        inner.add((GrantMapping) f.delegate());
                    }
                } else {
                    inner.add(m);
                }
            }
            h.unmap(inner);
            return null;
        });
    }

    @Override
    public void copy(List<GrantCopy> ops, int[] status) {
        call(h -> {
            h.copy(ops, status);
            return null;
        });
    }

    @Override
    public MappedRegion map(int domid, long[] frames, boolean writable) {
        return track(call(h -> new ForwardedRegion(this, h.map(domid, frames, writable))));
    }

    @Override
    public MappedRegion mapGrantTable(int domid) {
        return track(call(h -> new ForwardedRegion(this, h.mapGrantTable(domid))));
    }

    private MappedRegion track(ForwardedRegion r) {
        regions.put(r.address(), r);
        return r;
    }

    void forget(ForwardedRegion r) {
        regions.remove(r.address(), r);
    }

    // ---- EventChannels

    @Override
    public EventChannel allocUnbound(int remoteDomid, EventHandler handler) {
        ForwardedChannel c = new ForwardedChannel(this, handler);
        return track(c, call(h -> h.allocUnbound(remoteDomid, c.handler())));
    }

    @Override
    public EventChannel bindInterdomain(int remoteDomid, int remotePort, EventHandler handler) {
        if (handler == null) {
            throw new IllegalArgumentException("an event channel needs a handler");
        }
        ForwardedChannel c = new ForwardedChannel(this, handler);
        return track(c, call(h -> h.bindInterdomain(remoteDomid, remotePort, c.handler())));
    }

    @Override
    public EventChannel bindInterdomainAwaited(int remoteDomid, int remotePort) {
        ForwardedChannel c = new ForwardedChannel(this, null);
        return track(c, call(h -> h.bindInterdomainAwaited(remoteDomid, remotePort)));
    }

    private EventChannel track(ForwardedChannel c, EventChannel inner) {
        c.bound(inner);
        channels.put(c.port(), c);
        return c;
    }

    void forget(ForwardedChannel c) {
        channels.remove(c.port(), c);
    }

    /** Closes the channels of a hand-over nobody took (the runtime stops while the sim bundle is away). */
    private static void closeAll(Collection<?> values) {
        for (Object v : values) {
            if (v instanceof java.nio.channels.Channel c) {
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
