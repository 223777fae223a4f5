package io.backplane.hypervisor.sim;

import static io.backplane.hypervisor.sim.abi.EvtchnWire.ARG_OFFSET;
import static io.backplane.hypervisor.sim.abi.EvtchnWire.MESSAGE_LENGTH;
import static io.backplane.hypervisor.sim.abi.EvtchnWire.OP_OFFSET;
import static io.backplane.hypervisor.sim.abi.EvtchnWire.PORT_OFFSET;
import static io.backplane.hypervisor.sim.abi.EvtchnWire.REPLY;
import static io.backplane.hypervisor.sim.abi.EvtchnWire.RESULT_OFFSET;

import io.backplane.api.hypervisor.HypervisorException;
import io.backplane.api.hypervisor.ShutdownReason;
import io.backplane.hypervisor.sim.abi.EvtchnWire;
import io.backplane.nativeio.Errno;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.HashMap;
import java.util.Map;

/**
 * A connection on {@code evtchn.sock}. Most are control connections: one open of a guest's event
 * channel device, whose thread reads the guest's requests (docs/sim-abi.md, the device's ioctls)
 * and performs them for that domain only. A connection whose first message is ATTACH_STREAM
 * becomes the event stream of a control connection instead: delivered ports are written to it as
 * 4-byte native-endian numbers and every 4-byte number the guest writes unmasks that port, as
 * read/write on Linux's /dev/xen/evtchn do.
 *
 * <p>Sockets are non-blocking so that no dom0 thread ever waits on a guest: a well-behaved
 * guest never has more than one reply and one delivery per port unread (ports mask after each
 * delivery), far below the socket buffer, so a write that does not go through at once means the
 * guest stopped reading. Its connection (control and stream) is then closed, which hurts only
 * that guest.
 */
final class GuestConnection implements PortSink, Runnable {
    private final SimDomain domain;
    private final SocketChannel channel;
    private final EventChannelSwitch evtchn;
    private final GuestLimitedLog log;
    private final ByteBuffer in = ByteBuffer.allocateDirect(MESSAGE_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer out = ByteBuffer.allocateDirect(MESSAGE_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer portOut = ByteBuffer.allocateDirect(EvtchnWire.PORT_LENGTH).order(ByteOrder.nativeOrder());
    private final Selector selector;
    private final EvtchnServer server;
    private boolean shutdownSent;
    private boolean requested;
    /** This control connection's event stream, null until attached. */
    private volatile GuestConnection stream;
    /** Set on a stream: the control connection it serves. */
    private volatile GuestConnection control;
    /** This connection asked to be a stream (whether or not its token was good). */
    private boolean streamRole;
    /** On a stream: the port number being read. */
    private final ByteBuffer streamIn = ByteBuffer.allocateDirect(EvtchnWire.PORT_LENGTH).order(ByteOrder.nativeOrder());
    /** The next read continues a message begun before (a hand-over stopped in it, or restored one). */
    private boolean partialKept;
    private volatile boolean handingOver;
    /** Set by this connection's thread when it stopped for a hand-over: nothing is cleaned up. */
    private volatile boolean handedOver;

    GuestConnection(SimDomain domain, SocketChannel channel, EventChannelSwitch evtchn, GuestLimitedLog log, EvtchnServer server) throws IOException {
        this.selector = Selector.open();
        this.domain = domain;
        this.channel = channel;
        this.evtchn = evtchn;
        this.log = log;
        this.server = server;
    }

    @Override
    public void run() {
        try (Selector sel = selector) {
            channel.configureBlocking(false);
            channel.register(sel, SelectionKey.OP_READ);
            GuestConnection c = control;
            if (c != null) {
                streamLoop(sel, c); // a stream taken over from the previous sim
                return;
            }
            while (read(sel, in)) {
                int op = in.getInt(OP_OFFSET);
                if (op == EvtchnWire.OP_ATTACH_STREAM && !requested) {
                    runStream(sel, in.getInt(ARG_OFFSET));
                    return;
                }
                requested = true;
                handle(op, in.getInt(PORT_OFFSET), in.getInt(ARG_OFFSET));
            }
        } catch (IOException e) {
            // The guest went away (or the domain is being destroyed): clean up below.
        } finally {
            if (!handedOver) {
                cleanUp();
            }
        }
    }

    private void cleanUp() {
        GuestConnection c = control;
        if (c != null) {
            c.close(); // the stream went away: so does its device open, as one file
        } else if (streamRole) {
            close(); // a refused attach: it never was a device open
        } else {
            server.forgetToken(this);
            evtchn.closeAll(domain.domid(), this);
            close();
            domain.connectionClosed(this, shutdownSent);
        }
    }

    /**
     * This connection is an event stream: joins it to the control connection named by the token,
     * then reads 4-byte port numbers, each an unmask, until either side closes.
     */
    private void runStream(Selector sel, int token) throws IOException {
        streamRole = true;
        GuestConnection c = server.claimToken(token, this);
        if (c == null) {
            reply(EvtchnWire.OP_ATTACH_STREAM, 0, -Errno.EINVAL);
            server.removed(this);
            close();
            return;
        }
        control = c;
        c.stream = this; // before the reply: the guest may bind the moment it reads it
        reply(EvtchnWire.OP_ATTACH_STREAM, 0, 0);
        if (!c.channel.isOpen()) {
            return;
        }
        streamLoop(sel, c);
    }

    private void streamLoop(Selector sel, GuestConnection c) throws IOException {
        while (read(sel, streamIn)) {
            c.unmaskFromStream(streamIn.getInt(0));
        }
    }

    /**
     * A port number written to the stream: unmask it. As in Linux's evtchn_write, a port not bound
     * through this device is ignored (a guest may write back a port it closed meanwhile).
     */
    private void unmaskFromStream(int port) {
        try {
            Port p = evtchn.lookup(domain.domid(), port);
            if (p.sink == this) {
                p.unmask();
            }
        } catch (HypervisorException e) {
            // no such port any more: ignored, as the Linux driver does
        }
    }

    /**
     * Fills {@code buf} with the next message; false when the guest closed, or when a hand-over
     * stops this connection (between two messages: the bytes of one begun stay in {@code buf}).
     */
    private boolean read(Selector sel, ByteBuffer buf) throws IOException {
        if (!partialKept) {
            buf.clear();
        }
        partialKept = false;
        while (buf.hasRemaining()) {
            if (handingOver) {
                handedOver = true;
                partialKept = true;
                return false;
            }
            int n = channel.read(buf);
            if (n < 0 || !channel.isOpen()) {
                return false;
            }
            if (n == 0) {
                sel.select();
                sel.selectedKeys().clear();
            }
        }
        return true;
    }

    /** Whether this connection's thread stopped for a hand-over (rather than ending with its guest). */
    boolean stoppedForHandOver() {
        return handedOver;
    }

    /** A hand-over begins: the thread stops at the next message boundary, the socket stays open. */
    void stopForHandOver() {
        handingOver = true;
        selector.wakeup();
    }

    /**
     * This connection as JDK values, after its thread stopped: its socket, its role (a device open
     * or the event stream of one, by number in {@code ids}), what it was told, and the bytes of a
     * message it had only partly sent.
     */
    Map<String, Object> handOver(Map<GuestConnection, Integer> ids) {
        Map<String, Object> m = new HashMap<>();
        m.put(SimHandOver.ID, ids.get(this));
        m.put(SimHandOver.CHANNEL, channel);
        GuestConnection c = control;
        if (c != null && ids.containsKey(c)) {
            m.put(SimHandOver.CONTROL, ids.get(c));
        }
        m.put(SimHandOver.SHUTDOWN_SENT, shutdownSent);
        m.put(SimHandOver.REQUESTED, requested);
        ByteBuffer partial = (c != null ? streamIn : in).duplicate().flip();
        byte[] bytes = new byte[partialKept ? partial.remaining() : 0];
        partial.get(bytes, 0, bytes.length);
        m.put(SimHandOver.PARTIAL, bytes);
        return m;
    }

    /**
     * Takes a predecessor's connection state (see {@link #handOver}); false for an event stream
     * (part of its device open), true for a device open.
     */
    boolean restore(Map<?, ?> m, Map<Integer, GuestConnection> byId) {
        shutdownSent = (Boolean) m.get(SimHandOver.SHUTDOWN_SENT);
        requested = (Boolean) m.get(SimHandOver.REQUESTED);
        Integer controlId = (Integer) m.get(SimHandOver.CONTROL);
        byte[] partial = (byte[]) m.get(SimHandOver.PARTIAL);
        ByteBuffer buf = controlId != null ? streamIn : in;
        buf.clear().put(partial);
        partialKept = true;
        if (controlId == null) {
            return true;
        }
        streamRole = true;
        GuestConnection c = byId.get(controlId);
        control = c;
        c.stream = this;
        return false;
    }

    private void handle(int op, int port, int arg) {
        int domid = domain.domid();
        try {
            switch (op) {
                case EvtchnWire.OP_BIND_UNBOUND -> {
                    needStream();
                    reply(op, 0, evtchn.allocUnbound(domid, arg, this).port);
                }
                case EvtchnWire.OP_BIND_INTERDOMAIN -> {
                    needStream();
                    Port local = evtchn.bindInterdomain(domid, arg, port, this);
                    reply(op, 0, local.port);
                    local.raise(); // Xen marks a newly bound port pending (the remote may have notified before).
                }
                case EvtchnWire.OP_NOTIFY -> evtchn.send(domid, port);
                case EvtchnWire.OP_STREAM_TOKEN -> {
                    if (stream != null) {
                        throw new HypervisorException(Errno.name(Errno.EINVAL), "the event stream is already attached");
                    }
                    reply(op, 0, server.token(this));
                }
                case EvtchnWire.OP_STATUS -> {
                    Port p = owned(port);
                    reply(op, port, (p.isMasked() ? EvtchnWire.STATUS_MASKED : 0) | (p.isPending() ? EvtchnWire.STATUS_PENDING : 0));
                }
                case EvtchnWire.OP_CLOSE -> {
                    owned(port);
                    evtchn.close(domid, port);
                    reply(op, port, 0);
                }
                case EvtchnWire.OP_SHUTDOWN -> {
                    shutdownSent = true;
                    reply(op, 0, 0);
                    domain.shutdown(ShutdownReason.fromCode(arg));
                }
                default -> reply(op, port, -Errno.ENOSYS);
            }
        } catch (HypervisorException e) {
            log.guestInfo(domid, "domain " + domid + " event channel request " + op + " on port " + port + " refused: " + e.getMessage());
            reply(op, port, -Errno.number(e.errno()));
        }
    }

    /** Ports deliver on the event stream: binding one before it is attached would lose events. */
    private void needStream() {
        if (stream == null) {
            throw new HypervisorException(Errno.name(Errno.ENOTCONN), "bind before the event stream is attached (STREAM_TOKEN, ATTACH_STREAM)");
        }
    }

    private Port owned(int port) {
        Port p = evtchn.lookup(domain.domid(), port);
        if (p.sink != this) {
            throw new HypervisorException(Errno.name(Errno.EINVAL), "port " + port + " was not bound through this connection");
        }
        return p;
    }

    @Override
    public void deliver(Port port) {
        GuestConnection s = stream;
        if (s != null) {
            s.sendPort(port.port);
        }
    }

    /** On a stream: one delivered port, 4 bytes native-endian. */
    private void sendPort(int port) {
        synchronized (portOut) {
            portOut.clear();
            portOut.putInt(0, port);
            try {
                channel.write(portOut);
                if (portOut.hasRemaining()) {
                    log.guestWarn(domain.domid(), "domain " + domain.domid() + " stopped reading its event stream: connection closed");
                    closeBoth();
                }
            } catch (IOException e) {
                closeBoth();
            }
        }
    }

    private void closeBoth() {
        GuestConnection c = control;
        if (c != null) {
            c.close();
        }
        close();
    }

    private void reply(int op, int port, int result) {
        send(op | REPLY, port, 0, result);
    }

    private void send(int op, int port, int arg, int result) {
        synchronized (out) {
            out.clear();
            out.putInt(OP_OFFSET, op).putInt(PORT_OFFSET, port).putInt(ARG_OFFSET, arg).putInt(RESULT_OFFSET, result);
            try {
                channel.write(out);
                if (out.hasRemaining()) {
                    log.guestWarn(domain.domid(), "domain " + domain.domid() + " stopped reading its event channel socket: connection closed");
                    close();
                }
            } catch (IOException e) {
                close(); // the reader thread sees the closed channel and cleans up
            }
        }
    }

    void close() {
        GuestConnection s = stream;
        if (s != null && s != this) {
            s.closeChannel();
        }
        closeChannel();
    }

    private void closeChannel() {
        try {
            channel.close();
        } catch (IOException e) {
            // closing anyway
        }
        selector.wakeup();
    }
}
