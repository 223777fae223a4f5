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
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;

/**
 * One open of a guest's event channel device: a connection on {@code evtchn.sock}. Its thread
 * reads the guest's requests (docs/sim-abi.md) and performs them for that domain only; events for
 * the ports bound through it are written back as EVENT messages.
 *
 * <p>The socket is non-blocking so that no dom0 thread ever waits on a guest: a well-behaved
 * guest never has more than one reply and one EVENT per port unread (ports mask after each
 * delivery), far below the socket buffer, so a write that does not go through at once means the
 * guest stopped reading. Its connection is then closed, which hurts only that guest.
 */
final class GuestConnection implements PortSink, Runnable {
    private final SimDomain domain;
    private final SocketChannel channel;
    private final EventChannelSwitch evtchn;
    private final SimLog log;
    private final ByteBuffer in = ByteBuffer.allocateDirect(MESSAGE_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer out = ByteBuffer.allocateDirect(MESSAGE_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
    private final Selector selector;
    private boolean shutdownSent;

    GuestConnection(SimDomain domain, SocketChannel channel, EventChannelSwitch evtchn, SimLog log) throws IOException {
        this.selector = Selector.open();
        this.domain = domain;
        this.channel = channel;
        this.evtchn = evtchn;
        this.log = log;
    }

    @Override
    public void run() {
        try (Selector sel = selector) {
            channel.configureBlocking(false);
            channel.register(sel, SelectionKey.OP_READ);
            while (readMessage(sel)) {
                handle(in.getInt(OP_OFFSET), in.getInt(PORT_OFFSET), in.getInt(ARG_OFFSET));
            }
        } catch (IOException e) {
            // The guest went away (or the domain is being destroyed): clean up below.
        } finally {
            evtchn.closeAll(domain.domid(), this);
            close();
            domain.connectionClosed(this, shutdownSent);
        }
    }

    private boolean readMessage(Selector sel) throws IOException {
        in.clear();
        while (in.hasRemaining()) {
            int n = channel.read(in);
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

    private void handle(int op, int port, int arg) {
        int domid = domain.domid();
        try {
            switch (op) {
                case EvtchnWire.OP_BIND_UNBOUND -> reply(op, 0, evtchn.allocUnbound(domid, arg, this).port);
                case EvtchnWire.OP_BIND_INTERDOMAIN -> {
                    Port local = evtchn.bindInterdomain(domid, arg, port, this);
                    reply(op, 0, local.port);
                    local.raise(); // Xen marks a newly bound port pending (the remote may have notified before).
                }
                case EvtchnWire.OP_NOTIFY -> evtchn.send(domid, port);
                case EvtchnWire.OP_UNMASK -> owned(port).unmask();
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
                default -> reply(op, port, -Errnos.number(Errnos.ENOSYS));
            }
        } catch (HypervisorException e) {
            log.info("domain " + domid + " event channel request " + op + " on port " + port + " refused: " + e.getMessage());
            reply(op, port, -Errnos.number(e.errno()));
        }
    }

    private Port owned(int port) {
        Port p = evtchn.lookup(domain.domid(), port);
        if (p.sink != this) {
            throw Errnos.error(Errnos.EINVAL, "port " + port + " was not bound through this connection");
        }
        return p;
    }

    @Override
    public void deliver(Port port) {
        send(EvtchnWire.OP_EVENT, port.port, 0, 0);
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
                    log.warn("domain " + domain.domid() + " stopped reading its event channel socket: connection closed");
                    close();
                }
            } catch (IOException e) {
                close(); // the reader thread sees the closed channel and cleans up
            }
        }
    }

    void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // closing anyway
        }
        selector.wakeup();
    }
}
