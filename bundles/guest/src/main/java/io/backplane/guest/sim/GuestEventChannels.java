package io.backplane.guest.sim;

import static io.backplane.hypervisor.sim.abi.EvtchnWire.ARG_OFFSET;
import static io.backplane.hypervisor.sim.abi.EvtchnWire.MESSAGE_LENGTH;
import static io.backplane.hypervisor.sim.abi.EvtchnWire.OP_OFFSET;
import static io.backplane.hypervisor.sim.abi.EvtchnWire.PORT_OFFSET;
import static io.backplane.hypervisor.sim.abi.EvtchnWire.REPLY;
import static io.backplane.hypervisor.sim.abi.EvtchnWire.RESULT_OFFSET;

import io.backplane.api.hypervisor.EventChannel;
import io.backplane.api.hypervisor.EventChannels;
import io.backplane.api.hypervisor.EventHandler;
import io.backplane.api.hypervisor.HypervisorException;
import io.backplane.hypervisor.sim.abi.EvtchnWire;
import io.backplane.nativeio.Errno;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The guest's event channels, as libxenevtchn opens /dev/xen/evtchn: a control connection to its
 * domain's {@code evtchn.sock} for the device's ioctls (16-byte request/reply messages of
 * docs/sim-abi.md) and its event stream, a second connection on which the hypervisor writes each
 * delivered port as 4 native-endian bytes and this guest writes a port back to unmask it. The same
 * SPI as dom0's, seen from the guest. Events run the port's handler on the stream's reader
 * thread; a delivered port stays masked until {@link EventChannel#unmask()}.
 */
public final class GuestEventChannels implements EventChannels, AutoCloseable {
    private final int domid;
    private final SocketChannel socket;
    private final SocketChannel stream;
    private final ByteBuffer out = ByteBuffer.allocateDirect(MESSAGE_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer in = ByteBuffer.allocateDirect(MESSAGE_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer unmaskOut = ByteBuffer.allocateDirect(EvtchnWire.PORT_LENGTH).order(ByteOrder.nativeOrder());
    /** One request at a time on the control connection, held from send to reply. */
    private final Object requestLock = new Object();
    private final Map<Integer, GuestChannel> channels = new ConcurrentHashMap<>();
    /** Ports delivered before their channel object was registered (a bind's immediate event). */
    private final Set<Integer> early = ConcurrentHashMap.newKeySet();
    private final Thread reader;
    private final Runnable onDisconnect;
    private volatile boolean closed;
    private volatile boolean detaching;
    private volatile String asyncError;

    GuestEventChannels(int domid, Path socketPath, Runnable onDisconnect) throws IOException {
        this.domid = domid;
        this.onDisconnect = onDisconnect;
        this.socket = SocketChannel.open(StandardProtocolFamily.UNIX);
        socket.connect(UnixDomainSocketAddress.of(socketPath));
        this.stream = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            int token = request(EvtchnWire.OP_STREAM_TOKEN, 0, 0);
            stream.connect(UnixDomainSocketAddress.of(socketPath));
            int[] reply = exchange(stream, EvtchnWire.OP_ATTACH_STREAM, 0, token);
            if (reply == null || reply[0] != (EvtchnWire.OP_ATTACH_STREAM | REPLY) || reply[2] != 0) {
                throw new IOException("domain " + domid + ": the hypervisor refused the event stream");
            }
        } catch (IOException | HypervisorException e) {
            socket.close();
            stream.close();
            throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
        }
        this.reader = new Thread(this::readLoop, "guest-evtchn-d" + domid);
        reader.setDaemon(true);
        reader.start();
    }

    @Override
    public EventChannel allocUnbound(int remoteDomid, EventHandler handler) {
        int port = request(EvtchnWire.OP_BIND_UNBOUND, 0, remoteDomid);
        // Nothing can fire a port that was only offered before this guest publishes it: a
        // delivery seen already was for an earlier, closed port of that number.
        early.remove(port);
        return register(new GuestChannel(this, port, remoteDomid, handler));
    }

    @Override
    public EventChannel bindInterdomain(int remoteDomid, int remotePort, EventHandler handler) {
        int port = request(EvtchnWire.OP_BIND_INTERDOMAIN, remotePort, remoteDomid);
        GuestChannel ch = new GuestChannel(this, port, remoteDomid, handler);
        ch.bound(remotePort);
        return register(ch);
    }

    /** A guest's ports run handlers only: awaiting a port is for dom0's ring workers. */
    @Override
    public EventChannel bindInterdomainAwaited(int remoteDomid, int remotePort) {
        throw new UnsupportedOperationException("a guest's event channels deliver to handlers only");
    }

    /** SCHEDOP_shutdown with a SHUTDOWN_* reason. */
    void shutdown(int reason) {
        request(EvtchnWire.OP_SHUTDOWN, 0, reason);
    }

    /** The last failure the hypervisor reported for a NOTIFY (it has no reply otherwise). */
    public String lastAsyncError() {
        return asyncError;
    }

    /** False once the hypervisor closed the connection (the domain was destroyed). */
    public boolean connected() {
        return !closed && socket.isOpen() && stream.isOpen();
    }

    void notify(int port) {
        synchronized (requestLock) {
            send(socket, EvtchnWire.OP_NOTIFY, port, 0);
        }
    }

    /** Writes the port back on the event stream, as xenevtchn_unmask does. */
    void unmask(int port) {
        synchronized (unmaskOut) {
            unmaskOut.clear();
            unmaskOut.putInt(0, port);
            try {
                while (unmaskOut.hasRemaining()) {
                    stream.write(unmaskOut);
                }
            } catch (IOException e) {
                throw new HypervisorException(Errno.name(Errno.EIO), "domain " + domid + " lost its event stream: " + e.getMessage());
            }
        }
    }

    /** The hypervisor's STATUS_* bits of one of this guest's ports. */
    int status(int port) {
        return request(EvtchnWire.OP_STATUS, port, 0);
    }

    void close(GuestChannel ch) {
        channels.remove(ch.port());
        request(EvtchnWire.OP_CLOSE, ch.port(), 0);
        early.remove(ch.port()); // a delivery that raced the close belongs to nobody now
    }

    private GuestChannel register(GuestChannel ch) {
        channels.put(ch.port(), ch);
        if (early.remove(ch.port())) {
            ch.deliver();
        }
        return ch;
    }

    private int request(int op, int port, int arg) {
        int[] reply;
        try {
            synchronized (requestLock) {
                reply = exchange(socket, op, port, arg);
            }
        } catch (IOException e) {
            closed = true;
            throw new HypervisorException(Errno.name(Errno.EIO), "domain " + domid + " lost its hypervisor connection: " + e.getMessage());
        }
        if (reply == null) {
            closed = true;
            throw new HypervisorException(Errno.name(Errno.EIO), "domain " + domid + " lost its hypervisor connection");
        }
        if (reply[0] != (op | REPLY)) {
            throw new HypervisorException(Errno.name(Errno.EIO), "hypervisor answered op " + reply[0] + " to op " + op);
        }
        if (reply[2] < 0) {
            throw new HypervisorException(Errno.name(-reply[2]), "event channel op " + op + " on port " + port + " refused");
        }
        return reply[2];
    }

    /** Sends one request and reads its reply, noting failed NOTIFYs read on the way; null at EOF. */
    private int[] exchange(SocketChannel ch, int op, int port, int arg) throws IOException {
        send(ch, op, port, arg);
        while (true) {
            in.clear();
            while (in.hasRemaining()) {
                if (ch.read(in) < 0) {
                    return null;
                }
            }
            int[] m = {in.getInt(OP_OFFSET), in.getInt(PORT_OFFSET), in.getInt(RESULT_OFFSET)};
            if (m[0] == (EvtchnWire.OP_NOTIFY | REPLY)) {
                asyncError = "op " + EvtchnWire.OP_NOTIFY + " on port " + m[1] + " failed: " + Errno.name(-m[2]);
                continue;
            }
            return m;
        }
    }

    private void send(SocketChannel ch, int op, int port, int arg) {
        synchronized (out) {
            out.clear();
            out.putInt(OP_OFFSET, op).putInt(PORT_OFFSET, port).putInt(ARG_OFFSET, arg).putInt(RESULT_OFFSET, 0);
            try {
                while (out.hasRemaining()) {
                    ch.write(out);
                }
            } catch (IOException e) {
                throw new HypervisorException(Errno.name(Errno.EIO), "domain " + domid + " lost its hypervisor connection: " + e.getMessage());
            }
        }
    }

    /** Reads the event stream: one 4-byte port per delivery, the port masked until written back. */
    private void readLoop() {
        ByteBuffer port = ByteBuffer.allocateDirect(EvtchnWire.PORT_LENGTH).order(ByteOrder.nativeOrder());
        try {
            while (true) {
                port.clear();
                while (port.hasRemaining()) {
                    if (stream.read(port) < 0) {
                        return;
                    }
                }
                event(port.getInt(0));
            }
        } catch (IOException e) {
            // connection gone
        } finally {
            closed = true;
            if (onDisconnect != null && !detaching) {
                onDisconnect.run();
            }
        }
    }

    private void event(int port) {
        GuestChannel ch = channels.get(port);
        if (ch != null) {
            ch.deliver();
        } else {
            early.add(port);
        }
    }

    @Override
    public void close() {
        detaching = true;
        closed = true;
        try {
            socket.close();
            stream.close();
        } catch (IOException e) {
            // closing anyway
        }
        try {
            reader.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

}
