package io.backplane.hypervisor.xen;

import io.backplane.api.hypervisor.EventChannel;
import io.backplane.api.hypervisor.EventHandler;
import io.backplane.api.hypervisor.HypervisorException;
import io.backplane.nativeio.Errno;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One dom0 port bound through /dev/xen/evtchn. The evtchn driver itself masks a port when it
 * queues it for reading and unmasks it when the port number is written back, so {@link #unmask()}
 * is that write (and the kernel re-delivers at once if the port became pending meanwhile).
 */
final class XenEventChannel implements EventChannel {
    private final XenEventChannels owner;
    /** The /dev/xen/evtchn the port is bound on: the shared one, or its own for an awaited port. */
    private final int fd;
    private final int port;
    private final int remoteDomid;
    private final int remotePort;
    /** Null for an awaited port. */
    private final EventHandler handler;
    /** The port as the 4 bytes the device's ioctls and write take; only ever read after construction. */
    private final ByteBuffer portBytes;
    /** {@link #await}'s buffers (one thread waits per port). */
    private final ByteBuffer pollFd;
    private final ByteBuffer fired;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile boolean masked;

    XenEventChannel(XenEventChannels owner, int fd, int port, int remoteDomid, int remotePort, EventHandler handler) {
        this.owner = owner;
        this.fd = fd;
        this.port = port;
        this.remoteDomid = remoteDomid;
        this.remotePort = remotePort;
        this.handler = handler;
        this.portBytes = ByteBuffer.allocateDirect(4).order(ByteOrder.nativeOrder()).putInt(0, port);
        this.pollFd = handler == null ? ByteBuffer.allocateDirect(8) : null;
        this.fired = handler == null ? ByteBuffer.allocateDirect(16) : null;
    }

    @Override
    public int port() {
        return port;
    }

    @Override
    public int remoteDomid() {
        return remoteDomid;
    }

    /**
     * The remote port given to bindInterdomain; 0 for a port from allocUnbound, also after the
     * guest bound it (userspace learns that only through EVTCHNOP_status, which evtchn lacks).
     */
    @Override
    public int remotePort() {
        return remotePort;
    }

    @Override
    public void notifyRemote() {
        if (closed.get()) {
            throw new HypervisorException(Errno.name(Errno.EINVAL), "event channel port " + port + " to domain " + remoteDomid + " is closed");
        }
        owner.notify(this);
    }

    @Override
    public void unmask() {
        if (closed.get()) {
            return;
        }
        masked = false;
        owner.unmask(this);
    }

    /**
     * Always false on Xen: while a port is masked, a further notification only sets its pending
     * bit in the shared info page, which the evtchn device does not show to userspace; unmask()
     * delivers it.
     */
    @Override
    public boolean isPending() {
        return false;
    }

    @Override
    public boolean isMasked() {
        return masked;
    }

    @Override
    public boolean await(int timeoutMillis) {
        if (handler != null) {
            throw new IllegalStateException(this + " has a handler: nothing to await");
        }
        if (closed.get()) {
            return false;
        }
        if (owner.await(this, timeoutMillis, pollFd, fired)) {
            masked = true;
            return true;
        }
        return false;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            owner.unbind(this);
        }
    }

    boolean isClosed() {
        return closed.get();
    }

    /** Called on the delivery thread: the kernel masked the port when it queued it. */
    void deliver() {
        masked = true;
        handler.onEvent(this);
    }

    int fd() {
        return fd;
    }

    ByteBuffer portBytes() {
        return portBytes;
    }

    @Override
    public String toString() {
        return "event channel port " + port + " to domain " + remoteDomid + (remotePort != 0 ? " port " + remotePort : "");
    }
}
