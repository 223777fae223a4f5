package io.backplane.hypervisor.sim;

import io.backplane.api.hypervisor.EventChannel;
import io.backplane.api.hypervisor.EventHandler;
import io.backplane.api.hypervisor.HypervisorException;
import io.backplane.api.log.OperatorLog;
import io.backplane.nativeio.Errno;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * A dom0 port handed to backend code; events run its handler on the delivering thread, or, for
 * an awaited port (no handler), wake the thread in {@link #await}.
 */
final class Dom0Channel implements EventChannel, PortSink {
    private final EventChannelSwitch evtchn;
    private final EventHandler handler;
    private final Semaphore events = new Semaphore(0);
    private final OperatorLog log;
    private volatile Port port;
    private volatile boolean closedByOwner;
    private volatile boolean remoteGone;
    /** Handed over to the next sim: a waiter is woken and goes to the successor's channel. */
    private volatile boolean retired;

    Dom0Channel(EventChannelSwitch evtchn, EventHandler handler, OperatorLog log) {
        this.evtchn = evtchn;
        this.handler = handler;
        this.log = log;
    }

    void attach(Port p) {
        this.port = p;
    }

    EventHandler handler() {
        return handler;
    }

    /** An awaited channel with an event not yet taken. */
    boolean hasEvent() {
        return events.availablePermits() > 0;
    }

    /** For the successor: an awaited channel whose predecessor had an event not yet taken. */
    void eventWaiting() {
        events.release();
    }

    /** Handed over: whoever waits on this channel wakes (an event at worst spurious) and waits on the successor. */
    void retire() {
        retired = true;
        events.release();
    }

    /** The remote domain was destroyed: the port is already freed; notifying becomes a no-op. */
    void remoteDestroyed() {
        remoteGone = true;
    }

    @Override
    public int port() {
        return port.port;
    }

    @Override
    public int remoteDomid() {
        return port.remoteDomid();
    }

    @Override
    public int remotePort() {
        Port peer = port.peer();
        return peer == null ? 0 : peer.port;
    }

    @Override
    public void notifyRemote() {
        if (closedByOwner) {
            throw new HypervisorException(Errno.name(Errno.EINVAL), "dom0 port " + port.port + " is closed");
        }
        if (!remoteGone) {
            evtchn.send(0, port.port);
        }
    }

    @Override
    public void unmask() {
        port.unmask();
    }

    @Override
    public boolean isPending() {
        return port.isPending();
    }

    @Override
    public boolean isMasked() {
        return port.isMasked();
    }

    @Override
    public void close() {
        if (closedByOwner) {
            return;
        }
        closedByOwner = true;
        if (!remoteGone) {
            try {
                evtchn.close(0, port.port);
            } catch (RuntimeException e) {
                // Already freed by a concurrent domain destruction: nothing left to close.
            }
        }
    }

    @Override
    public boolean await(int timeoutMillis) {
        if (handler != null) {
            throw new IllegalStateException(this + " has a handler: nothing to await");
        }
        if (retired) {
            return true;
        }
        try {
            if (!events.tryAcquire(timeoutMillis, TimeUnit.MILLISECONDS)) {
                return false;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        events.drainPermits();
        return true;
    }

    @Override
    public void deliver(Port p) {
        if (handler == null) {
            events.release();
            return;
        }
        try {
            handler.onEvent(this);
        } catch (RuntimeException e) {
            log.warn("event handler of dom0 port " + p.port + " (domain " + p.remoteDomid() + ") failed: " + e);
        }
    }

    @Override
    public String toString() {
        return "dom0 event channel " + port;
    }
}
