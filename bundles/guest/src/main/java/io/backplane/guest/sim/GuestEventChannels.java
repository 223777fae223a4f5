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
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The guest's event channels: a connection to its domain's {@code evtchn.sock}, speaking the
 * 16-byte messages of docs/sim-abi.md. The same SPI as dom0's, seen from the guest: ports are
 * the guest's, remote ends usually dom0's. Events run the port's handler on this connection's
 * reader thread; a delivered port stays masked until {@link EventChannel#unmask()}.
 */
public final class GuestEventChannels implements EventChannels, AutoCloseable {
    private static final long REPLY_TIMEOUT_SECONDS = 10;

    private final int domid;
    private final SocketChannel socket;
    private final ByteBuffer out = ByteBuffer.allocateDirect(MESSAGE_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
    private final BlockingQueue<int[]> replies = new ArrayBlockingQueue<>(1);
    /** One request at a time per connection (docs/sim-abi.md); held from send to reply. */
    private final ReentrantLock requestLock = new ReentrantLock(true); // fair: a waiting handler is not starved
    /** A request was sent and its reply not read yet. Cleared by the reader when it reads one. */
    private volatile boolean replyDue;
    private final Map<Integer, GuestChannel> channels = new ConcurrentHashMap<>();
    /** Events for ports whose channel object is not registered yet (a bind's immediate event). */
    private final Set<Integer> early = ConcurrentHashMap.newKeySet();
    /** Reader thread only: EVENTs read while a handler waited for a reply. */
    private final java.util.ArrayDeque<Integer> deferred = new java.util.ArrayDeque<>();
    private final ByteBuffer in = ByteBuffer.allocateDirect(MESSAGE_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
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
        this.reader = new Thread(this::readLoop, "guest-evtchn-d" + domid);
        reader.setDaemon(true);
        reader.start();
    }

    @Override
    public EventChannel allocUnbound(int remoteDomid, EventHandler handler) {
        int port = request(EvtchnWire.OP_BIND_UNBOUND, 0, remoteDomid);
        return register(new GuestChannel(this, port, remoteDomid, handler));
    }

    @Override
    public EventChannel bindInterdomain(int remoteDomid, int remotePort, EventHandler handler) {
        int port = request(EvtchnWire.OP_BIND_INTERDOMAIN, remotePort, remoteDomid);
        GuestChannel ch = new GuestChannel(this, port, remoteDomid, handler);
        ch.bound(remotePort);
        return register(ch);
    }

    /** SCHEDOP_shutdown with a SHUTDOWN_* reason. */
    void shutdown(int reason) {
        request(EvtchnWire.OP_SHUTDOWN, 0, reason);
    }

    /** The last failure the hypervisor reported for a NOTIFY or UNMASK (they have no reply otherwise). */
    public String lastAsyncError() {
        return asyncError;
    }

    /** False once the hypervisor closed the connection (the domain was destroyed). */
    public boolean connected() {
        return !closed && socket.isOpen();
    }

    void notify(int port) {
        sendOneWay(EvtchnWire.OP_NOTIFY, port);
    }

    void unmask(int port) {
        sendOneWay(EvtchnWire.OP_UNMASK, port);
    }

    /** The hypervisor's STATUS_* bits of one of this guest's ports. */
    int status(int port) {
        return request(EvtchnWire.OP_STATUS, port, 0);
    }

    void close(GuestChannel ch) {
        channels.remove(ch.port());
        request(EvtchnWire.OP_CLOSE, ch.port(), 0);
        early.remove(ch.port()); // an EVENT that raced the close belongs to nobody now
    }

    private GuestChannel register(GuestChannel ch) {
        channels.put(ch.port(), ch);
        if (early.remove(ch.port())) {
            ch.deliver();
        }
        return ch;
    }

    private int request(int op, int port, int arg) {
        boolean onReader = Thread.currentThread() == reader;
        lockForRequest(onReader);
        int[] reply;
        try {
            replyDue = true;
            send(op, port, arg);
            reply = onReader ? awaitReplyOnReader() : awaitReply();
        } finally {
            requestLock.unlock();
        }
        if (reply == null) {
            throw new HypervisorException("EIO", closed ? "domain " + domid + " lost its hypervisor connection"
                    : "no reply from the hypervisor within " + REPLY_TIMEOUT_SECONDS + " s");
        }
        if (reply[0] != (op | REPLY)) {
            throw new HypervisorException("EIO", "hypervisor answered op " + reply[0] + " to op " + op);
        }
        if (reply[2] < 0) {
            throw new HypervisorException(errnoName(-reply[2]), "event channel op " + op + " on port " + port + " refused");
        }
        return reply[2];
    }

    /**
     * Takes the request lock. The reader thread (an event handler making a request) must not just
     * block on it: the holder may be waiting for a reply that only the reader can read. So it
     * reads and hands on messages while a reply is due, and retries the lock in between.
     */
    private void lockForRequest(boolean onReader) {
        if (!onReader) {
            requestLock.lock();
            return;
        }
        try {
            while (!requestLock.tryLock()) {
                if (!replyDue) {
                    // The holder is about to send, or about to unlock: queue for the lock briefly.
                    if (requestLock.tryLock(1, TimeUnit.MILLISECONDS)) {
                        return;
                    }
                    continue;
                }
                int[] m = readMessage();
                if (m == null) {
                    closed = true;
                    throw new HypervisorException("EIO", "domain " + domid + " lost its hypervisor connection");
                }
                if (m[0] == EvtchnWire.OP_EVENT) {
                    deferred.add(m[1]);
                } else if (!asyncFailure(m)) {
                    replies.offer(replyRead(m));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HypervisorException("EINTR", "interrupted waiting for the hypervisor");
        } catch (IOException e) {
            closed = true;
            throw new HypervisorException("EIO", "domain " + domid + " lost its hypervisor connection: " + e.getMessage());
        }
    }

    private int[] awaitReply() {
        try {
            return replies.poll(REPLY_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HypervisorException("EINTR", "interrupted waiting for the hypervisor");
        }
    }

    /**
     * A request made by an event handler, on the reader thread itself: nobody else reads the
     * socket, so read here until the reply comes. EVENTs read meanwhile wait in {@link #deferred}
     * and run when the handler returns, so a handler never runs inside another.
     */
    private int[] awaitReplyOnReader() {
        try {
            while (true) {
                int[] m = readMessage();
                if (m == null) {
                    closed = true; // the reader loop sees the end of file again and reports it
                    return null;
                }
                if (m[0] == EvtchnWire.OP_EVENT) {
                    deferred.add(m[1]);
                } else if (!asyncFailure(m)) {
                    return replyRead(m);
                }
            }
        } catch (IOException e) {
            return null;
        }
    }

    private void sendOneWay(int op, int port) {
        send(op, port, 0);
    }

    private void send(int op, int port, int arg) {
        synchronized (out) {
            out.clear();
            out.putInt(OP_OFFSET, op).putInt(PORT_OFFSET, port).putInt(ARG_OFFSET, arg).putInt(RESULT_OFFSET, 0);
            try {
                while (out.hasRemaining()) {
                    socket.write(out);
                }
            } catch (IOException e) {
                throw new HypervisorException("EIO", "domain " + domid + " lost its hypervisor connection: " + e.getMessage());
            }
        }
    }

    private void readLoop() {
        try {
            while (true) {
                int[] m = readMessage();
                if (m == null) {
                    return;
                }
                if (m[0] == EvtchnWire.OP_EVENT) {
                    event(m[1]);
                    Integer port;
                    while ((port = deferred.poll()) != null) {
                        event(port);
                    }
                } else if (!asyncFailure(m)) {
                    replies.offer(replyRead(m));
                }
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

    /** One message {op, port, result}; null at end of stream. Reader thread only. */
    private int[] readMessage() throws IOException {
        in.clear();
        while (in.hasRemaining()) {
            if (socket.read(in) < 0) {
                return null;
            }
        }
        return new int[] {in.getInt(OP_OFFSET), in.getInt(PORT_OFFSET), in.getInt(RESULT_OFFSET)};
    }

    private void event(int port) {
        GuestChannel ch = channels.get(port);
        if (ch != null) {
            ch.deliver();
        } else {
            early.add(port);
        }
    }

    /**
     * Reader thread, on every reply. A bind's new port may be a number an earlier, closed channel
     * had: an EVENT for it read before this reply was that channel's, not the new one's.
     */
    private int[] replyRead(int[] m) {
        replyDue = false;
        int op = m[0] & ~REPLY;
        if ((op == EvtchnWire.OP_BIND_UNBOUND || op == EvtchnWire.OP_BIND_INTERDOMAIN) && m[2] > 0) {
            Integer port = m[2];
            early.remove(port);
            deferred.removeIf(port::equals);
        }
        return m;
    }

    /** NOTIFY and UNMASK are answered only when they fail: remember it, they have no caller waiting. */
    private boolean asyncFailure(int[] m) {
        if (m[0] == (EvtchnWire.OP_NOTIFY | REPLY) || m[0] == (EvtchnWire.OP_UNMASK | REPLY)) {
            asyncError = "op " + (m[0] & ~REPLY) + " on port " + m[1] + " failed: " + errnoName(-m[2]);
            return true;
        }
        return false;
    }

    @Override
    public void close() {
        detaching = true;
        closed = true;
        try {
            socket.close();
        } catch (IOException e) {
            // closing anyway
        }
        try {
            reader.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String errnoName(int errno) {
        return switch (errno) {
            case 1 -> "EPERM";
            case 3 -> "ESRCH";
            case 5 -> "EIO";
            case 17 -> "EEXIST";
            case 22 -> "EINVAL";
            case 28 -> "ENOSPC";
            case 38 -> "ENOSYS";
            default -> "errno " + errno;
        };
    }
}
