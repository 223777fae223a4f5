package io.backplane.hypervisor.sim;

/**
 * One event channel port of one domain. Binding state (peer, remote domid) changes only under
 * the {@link EventChannelSwitch} lock; mask and pending under this port's own lock, so a notify
 * touches one port only. Delivery masks the port, as the Linux evtchn driver does until user
 * space writes the port back; a notification while masked only sets pending.
 */
final class Port {
    final int domid;
    final int port;
    final PortSink sink;
    private volatile int remoteDomid;
    private volatile Port peer;
    private boolean masked;
    private boolean pending;
    private boolean closed;

    Port(int domid, int port, int remoteDomid, PortSink sink) {
        this.domid = domid;
        this.port = port;
        this.remoteDomid = remoteDomid;
        this.sink = sink;
    }

    /** A port taken over from the previous sim, with its mask and pending bits. */
    Port(int domid, int port, int remoteDomid, PortSink sink, boolean masked, boolean pending) {
        this(domid, port, remoteDomid, sink);
        this.masked = masked;
        this.pending = pending;
    }

    int remoteDomid() {
        return remoteDomid;
    }

    /** The bound remote port, null while unbound. */
    Port peer() {
        return peer;
    }

    /** Switch lock held. */
    void bind(Port remote) {
        this.peer = remote;
        this.remoteDomid = remote.domid;
    }

    /** Switch lock held: the remote end closed; this port waits unbound for {@code domid} again. */
    void unbind() {
        this.peer = null;
    }

    /** The remote end notified: deliver now, or remember it while masked. */
    void raise() {
        synchronized (this) {
            if (closed) {
                return;
            }
            if (masked) {
                pending = true;
                return;
            }
            masked = true;
            pending = false;
        }
        sink.deliver(this);
    }

    /** Re-arms delivery; an event that came while masked is delivered at once. */
    void unmask() {
        synchronized (this) {
            if (closed) {
                return;
            }
            masked = false;
            if (!pending) {
                return;
            }
            pending = false;
            masked = true;
        }
        sink.deliver(this);
    }

    synchronized boolean isMasked() {
        return masked;
    }

    synchronized boolean isPending() {
        return pending;
    }

    synchronized void markClosed() {
        closed = true;
    }

    @Override
    public String toString() {
        Port p = peer;
        return "d" + domid + " port " + port + (p == null ? " unbound for d" + remoteDomid : " bound to d" + p.domid + " port " + p.port);
    }
}
