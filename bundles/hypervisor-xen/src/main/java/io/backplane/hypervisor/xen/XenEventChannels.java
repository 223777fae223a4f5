package io.backplane.hypervisor.xen;

import io.backplane.api.hypervisor.EventChannel;
import io.backplane.api.hypervisor.EventChannels;
import io.backplane.api.hypervisor.EventHandler;
import io.backplane.api.hypervisor.HypervisorException;
import io.backplane.api.log.OperatorLog;
import io.backplane.hypervisor.xen.abi.EvtchnAbi;
import io.backplane.nativeio.Errno;
import io.backplane.nativeio.NativeException;
import io.backplane.nativeio.NativeIo;
import io.backplane.nativeio.Posix;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@link EventChannels} over one open {@code /dev/xen/evtchn} (what libxenevtchn does): binds
 * with the device's ioctls, and one delivery thread polls the device and reads the 4-byte port
 * numbers that fired, calling each port's handler. An awaited port has a device of its own,
 * read by the thread that waits on it.
 *
 * <p>A port can fire before its bind ioctl has returned to us (Linux marks a newly bound port
 * pending once), so binding and registering happen under {@link #bindLock}, and a port the
 * delivery thread does not know yet is looked up again under the same lock. Awaited ports are
 * bound under it too (see {@link #bindInterdomainAwaited}).
 */
final class XenEventChannels implements EventChannels, AutoCloseable {
    /** errno of a read after the driver's ring of fired ports overflowed. */
    private static final int EFBIG = 27;
    private static final int POLL_MILLIS = 200;
    private static final int READ_PORTS = 256;

    private final NativeIo io;
    private final int fd;
    private final OperatorLog log;
    private final Map<Integer, XenEventChannel> ports = new ConcurrentHashMap<>();
    /** Ports bound with {@link #bindInterdomainAwaited}, each on a device of its own. */
    private final Set<XenEventChannel> awaited = ConcurrentHashMap.newKeySet();
    private final Object bindLock = new Object();
    private final Thread delivery;
    private volatile boolean running = true;

    XenEventChannels(NativeIo io, OperatorLog log) {
        this.io = io;
        this.log = log;
        this.fd = io.open(EvtchnAbi.DEVICE, Posix.O_RDWR | Posix.O_NONBLOCK, 0);
        this.delivery = new Thread(this::deliverLoop, "xen-evtchn-delivery");
        delivery.setDaemon(true);
        delivery.start();
    }

    @Override
    public EventChannel allocUnbound(int remoteDomid, EventHandler handler) {
        ByteBuffer req = ByteBuffer.allocateDirect(EvtchnAbi.BindUnboundPort.SIZE).order(ByteOrder.nativeOrder());
        req.putInt(EvtchnAbi.BindUnboundPort.REMOTE_DOMAIN, remoteDomid);
        return bind(req, EvtchnAbi.BindUnboundPort.IOCTL, remoteDomid, 0, handler,
                "EVTCHNOP_alloc_unbound for domain " + remoteDomid);
    }

    @Override
    public EventChannel bindInterdomain(int remoteDomid, int remotePort, EventHandler handler) {
        ByteBuffer req = ByteBuffer.allocateDirect(EvtchnAbi.BindInterdomain.SIZE).order(ByteOrder.nativeOrder());
        req.putInt(EvtchnAbi.BindInterdomain.REMOTE_DOMAIN, remoteDomid);
        req.putInt(EvtchnAbi.BindInterdomain.REMOTE_PORT, remotePort);
        return bind(req, EvtchnAbi.BindInterdomain.IOCTL, remoteDomid, remotePort, handler,
                "EVTCHNOP_bind_interdomain to port " + remotePort + " of domain " + remoteDomid);
    }

    /**
     * The port is bound on a /dev/xen/evtchn of its own (as libxenevtchn gives each open its own
     * ports), so the thread waiting on it reads its events itself and the delivery thread never
     * sees them.
     */
    @Override
    public EventChannel bindInterdomainAwaited(int remoteDomid, int remotePort) {
        ByteBuffer req = ByteBuffer.allocateDirect(EvtchnAbi.BindInterdomain.SIZE).order(ByteOrder.nativeOrder());
        req.putInt(EvtchnAbi.BindInterdomain.REMOTE_DOMAIN, remoteDomid);
        req.putInt(EvtchnAbi.BindInterdomain.REMOTE_PORT, remotePort);
        String what = "EVTCHNOP_bind_interdomain to port " + remotePort + " of domain " + remoteDomid;
        int own;
        try {
            own = io.open(EvtchnAbi.DEVICE, Posix.O_RDWR | Posix.O_NONBLOCK, 0);
        } catch (NativeException e) {
            throw new HypervisorException(Errno.name(e.errno()), what + ": opening " + EvtchnAbi.DEVICE + " failed: "
                    + e.getMessage(), e);
        }
        try {
            int port;
            // One bind at a time in this process, the shared device's too. Under emulation each
            // bind spends 0.17-0.2 s on a CPU in dom0's kernel (rig, schedstat); made at once in
            // an adoption (a vbd's queues beside a vif's ports) some took twice that, and the
            // CPUs from everything else the adoption does.
            synchronized (bindLock) {
                port = io.ioctl(own, EvtchnAbi.BindInterdomain.IOCTL, req);
            }
            XenEventChannel channel = new XenEventChannel(this, own, port, remoteDomid, remotePort, null);
            awaited.add(channel);
            return channel;
        } catch (NativeException e) {
            io.close(own);
            throw new HypervisorException(Errno.name(e.errno()), what + " failed: " + e.getMessage(), e);
        }
    }

    private EventChannel bind(ByteBuffer req, long ioctl, int remoteDomid, int remotePort, EventHandler handler, String what) {
        if (handler == null) {
            throw new IllegalArgumentException("an event channel needs a handler");
        }
        synchronized (bindLock) {
            int port;
            try {
                port = io.ioctl(fd, ioctl, req);
            } catch (NativeException e) {
                throw new HypervisorException(Errno.name(e.errno()), what + " failed: " + e.getMessage(), e);
            }
            XenEventChannel channel = new XenEventChannel(this, fd, port, remoteDomid, remotePort, handler);
            ports.put(port, channel);
            return channel;
        }
    }

    /**
     * Waits for the event of an awaited port: poll(2) on its own device, then read(2) of the
     * port number the driver queued (and masked). EFBIG cannot happen with one port per device;
     * should it, the device is reset and the caller told of an event, which it re-checks anyway.
     */
    boolean await(XenEventChannel channel, int timeoutMillis, ByteBuffer pollFd, ByteBuffer fired) {
        try {
            if ((io.poll(channel.fd(), Posix.POLLIN, timeoutMillis, pollFd) & Posix.POLLIN) == 0) {
                return false;
            }
            fired.clear();
            return io.read(channel.fd(), fired) >= EvtchnAbi.PORT_SIZE;
        } catch (NativeException e) {
            if (e.errno() == EFBIG) {
                try {
                    io.ioctl(channel.fd(), EvtchnAbi.RESET_IOCTL, 0L);
                } catch (NativeException reset) {
                    log.warn("IOCTL_EVTCHN_RESET on " + channel + " failed: " + reset.getMessage());
                }
                return true;
            }
            throw new HypervisorException(Errno.name(e.errno()), "waiting for " + channel + ": " + e.getMessage(), e);
        }
    }

    void notify(XenEventChannel channel) {
        try {
            io.ioctl(channel.fd(), EvtchnAbi.Notify.IOCTL, channel.portBytes());
        } catch (NativeException e) {
            throw new HypervisorException(Errno.name(e.errno()), "EVTCHNOP_send on " + channel + " failed: " + e.getMessage(), e);
        }
    }

    void unmask(XenEventChannel channel) {
        try {
            io.write(channel.fd(), channel.portBytes().duplicate());
        } catch (NativeException e) {
            throw new HypervisorException(Errno.name(e.errno()), "unmasking " + channel + " failed: " + e.getMessage(), e);
        }
    }

    void unbind(XenEventChannel channel) {
        ports.remove(channel.port(), channel);
        try {
            io.ioctl(channel.fd(), EvtchnAbi.Unbind.IOCTL, channel.portBytes());
        } catch (NativeException e) {
            // Already closed underneath us (the device was reset or the port is gone): nothing left to free.
            log.warn("closing " + channel + ": " + e.getMessage());
        }
        if (channel.fd() != fd && awaited.remove(channel)) {
            io.close(channel.fd());
        }
    }

    private void deliverLoop() {
        ByteBuffer pollFd = ByteBuffer.allocateDirect(8);
        ByteBuffer fired = ByteBuffer.allocateDirect(READ_PORTS * EvtchnAbi.PORT_SIZE).order(ByteOrder.nativeOrder());
        while (running) {
            try {
                if (io.poll(fd, Posix.POLLIN, POLL_MILLIS, pollFd) == 0) {
                    continue;
                }
                fired.clear();
                int n = io.read(fd, fired);
                for (int i = 0; i + EvtchnAbi.PORT_SIZE <= n; i += EvtchnAbi.PORT_SIZE) {
                    dispatch(fired.getInt(i));
                }
            } catch (NativeException e) {
                if (!running) {
                    return;
                }
                if (e.errno() == EFBIG) {
                    recoverOverflow();
                } else {
                    log.warn("reading " + EvtchnAbi.DEVICE + ": " + e.getMessage());
                    sleepQuietly();
                }
            }
        }
    }

    private void dispatch(int port) {
        XenEventChannel channel = ports.get(port);
        if (channel == null) {
            synchronized (bindLock) {
                channel = ports.get(port);
            }
        }
        if (channel != null && !channel.isClosed()) {
            try {
                channel.deliver();
            } catch (RuntimeException e) {
                log.warn("handler of " + channel + " failed: " + e);
            }
        }
    }

    /**
     * The driver's ring overflowed and events were dropped: reset it and give every port one
     * (possibly spurious) event, which consumers that re-check their rings handle anyway.
     */
    private void recoverOverflow() {
        log.warn(EvtchnAbi.DEVICE + " dropped events (ring overflow): resetting and delivering to every port");
        try {
            io.ioctl(fd, EvtchnAbi.RESET_IOCTL, 0L);
        } catch (NativeException e) {
            log.warn("IOCTL_EVTCHN_RESET failed: " + e.getMessage());
        }
        for (XenEventChannel channel : ports.values()) {
            dispatch(channel.port());
        }
    }

    private void sleepQuietly() {
        try {
            Thread.sleep(POLL_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    /** Stops delivery, unbinds every port and closes the device. */
    @Override
    public void close() {
        running = false;
        try {
            delivery.join(2L * POLL_MILLIS + 1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (XenEventChannel channel : ports.values()) {
            channel.close();
        }
        for (XenEventChannel channel : awaited) {
            channel.close();
        }
        io.close(fd);
    }
}
