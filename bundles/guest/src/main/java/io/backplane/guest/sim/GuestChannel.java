package io.backplane.guest.sim;

import io.backplane.api.hypervisor.EventChannel;
import io.backplane.api.hypervisor.EventHandler;
import io.backplane.api.hypervisor.HypervisorException;
import io.backplane.nativeio.Errno;

/** One of the guest's event channel ports. */
final class GuestChannel implements EventChannel {
    private final GuestEventChannels owner;
    private final int port;
    private final int remoteDomid;
    private final EventHandler handler;
    private volatile int remotePort;
    private volatile boolean masked;
    private volatile boolean closed;

    GuestChannel(GuestEventChannels owner, int port, int remoteDomid, EventHandler handler) {
        this.owner = owner;
        this.port = port;
        this.remoteDomid = remoteDomid;
        this.handler = handler;
    }

    void bound(int remote) {
        this.remotePort = remote;
    }

    void deliver() {
        masked = true;
        handler.onEvent(this);
    }

    @Override
    public int port() {
        return port;
    }

    @Override
    public int remoteDomid() {
        return remoteDomid;
    }

    /** Known when this side bound; 0 for a port this guest offered (the hypervisor does not say). */
    @Override
    public int remotePort() {
        return remotePort;
    }

    @Override
    public void notifyRemote() {
        if (closed) {
            throw new HypervisorException(Errno.name(Errno.EINVAL), "guest port " + port + " is closed");
        }
        owner.notify(port);
    }

    @Override
    public void unmask() {
        masked = false;
        owner.unmask(port);
    }

    /**
     * The hypervisor's pending bit (a STATUS request, one round trip): set when the remote end
     * notified while this port was masked; that event arrives right after {@link #unmask()}.
     */
    @Override
    public boolean isPending() {
        if (closed) {
            return false;
        }
        return (owner.status(port) & io.backplane.hypervisor.sim.abi.EvtchnWire.STATUS_PENDING) != 0;
    }

    @Override
    public boolean isMasked() {
        return masked;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            owner.close(this);
        }
    }
}
