package io.backplane.hypervisor.sim.holder.internal;

import io.backplane.api.hypervisor.EventChannel;
import io.backplane.api.hypervisor.EventHandler;
import io.backplane.hypervisor.sim.holder.SimHypervisorHolder.Hypervisor;

/**
 * A dom0 event channel that outlives the sim that bound it: the same dom0 port, served by the
 * attached sim's channel. Its handler is given the wrapper, never the sim's own channel.
 */
final class ForwardedChannel implements EventChannel {
    private final SimHypervisorFacade facade;
    private final EventHandler userHandler;
    private final EventHandler handler;
    private volatile EventChannel delegate;
    private volatile boolean gone;

    ForwardedChannel(SimHypervisorFacade facade, EventHandler userHandler) {
        this.facade = facade;
        this.userHandler = userHandler;
        // The sim may deliver before bind returns (a new port is marked pending).
        this.handler = userHandler == null ? null : inner -> {
            if (delegate == null) {
                delegate = inner;
            }
            userHandler.onEvent(this);
        };
    }

    /** What the sim is given: the user's handler, called with this wrapper (null for an awaited channel). */
    EventHandler handler() {
        return handler;
    }

    void bound(EventChannel inner) {
        delegate = inner;
    }

    /**
     * Points this channel at the successor's channel on the same port. False when it has none
     * (the remote domain was destroyed meanwhile): the channel then only waits to be closed.
     */
    boolean rebind(Hypervisor h) {
        EventChannel next = h.dom0Channel(port());
        if (next == null) {
            gone = true;
            return false;
        }
        delegate = next;
        return true;
    }

    /** The same dom0 port across hand-overs (the handler may ask before bind returns: the sim's channel then). */
    @Override
    public int port() {
        return delegate.port();
    }

    @Override
    public int remoteDomid() {
        return facade.call(h -> delegate.remoteDomid());
    }

    @Override
    public int remotePort() {
        return gone ? 0 : facade.call(h -> delegate.remotePort());
    }

    @Override
    public void notifyRemote() {
        if (!gone) {
            facade.call(h -> {
                delegate.notifyRemote();
                return null;
            });
        }
    }

    @Override
    public void unmask() {
        if (!gone) {
            facade.call(h -> {
                delegate.unmask();
                return null;
            });
        }
    }

    @Override
    public boolean isPending() {
        return !gone && facade.call(h -> delegate.isPending());
    }

    @Override
    public boolean isMasked() {
        return !gone && facade.call(h -> delegate.isMasked());
    }

    /**
     * Not a call the hand-over waits for: a sim handing over wakes its waiters (a spurious event,
     * which every waiter tolerates), and the next wait goes to the successor's channel.
     */
    @Override
    public boolean await(int timeoutMillis) {
        if (userHandler != null) {
            throw new IllegalStateException("event channel port " + port() + " has a handler: nothing to await");
        }
        facade.awaitAttached();
        if (gone) {
            try {
                Thread.sleep(timeoutMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return false;
        }
        return delegate.await(timeoutMillis);
    }

    @Override
    public void close() {
        facade.forget(this);
        if (!gone) {
            facade.call(h -> {
                delegate.close();
                return null;
            });
        }
    }

    @Override
    public String toString() {
        return String.valueOf(delegate);
    }
}
