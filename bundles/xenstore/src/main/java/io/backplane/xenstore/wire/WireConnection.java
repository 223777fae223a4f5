package io.backplane.xenstore.wire;

import io.backplane.xenstore.store.Connection;
import io.backplane.xenstore.store.Store;
import io.backplane.xenstore.store.WatchEventSink;

import io.backplane.xs.wire.Payload;
import io.backplane.xs.wire.XsWire;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One client socket: a reader thread that decodes requests and writes their replies, and an
 * event writer thread for watch events. A frame announcing more than 4096 bytes, or a socket
 * closing mid-frame, ends only this connection (C xenstored's {@code ignore_connection}).
 *
 * <p>The socket is non-blocking and read through a selector, so the reader can be stopped
 * between requests without closing it ({@link #stopReading}): a live update hands the open
 * socket, the bytes of a request not yet complete and the connection's state to the successor.
 */
final class WireConnection {
    /** Hand-over keys: the open socket, the connection's image, input read but not yet handled, output not yet written. */
    static final String CHANNEL = "channel";
    static final String STATE = "connection";
    static final String INPUT = "input";
    static final String OUTPUT = "output";

    private final SocketChannel channel;
    private final Store store;
    private final RequestHandler handler;
    private final ClientLog log;
    /** Who the log lines of this connection are about, for the rate limit. */
    private final String source;
    private final Outbox outbox;
    private final Connection connection;
    private final Runnable onClose;
    private final Selector selector;
    /** Input not yet handled: at most one whole frame plus what follows it in one read. */
    private final ByteBuffer in = ByteBuffer.allocate(2 * (XsWire.HEADER_LENGTH + XsWire.PAYLOAD_MAX)).order(XsWire.ORDER);
    private final Thread reader;
    private final Thread eventWriter;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile boolean stopping;

    /** A new client. */
    WireConnection(SocketChannel channel, Store store, int domid, boolean privileged, ClientLog log, Runnable onClose)
            throws IOException {
        this(channel, store, null, domid, privileged, log, onClose);
    }

    /** A client handed over by a predecessor ({@link #handOver}). */
    static WireConnection restored(Map<?, ?> handOver, Store store, ClientLog log, Runnable onClose) throws IOException {
        WireConnection c = new WireConnection((SocketChannel) handOver.get(CHANNEL), store, (byte[]) handOver.get(STATE),
                0, false, log, onClose);
        c.in.put((byte[]) handOver.get(INPUT));
        byte[] unsent = (byte[]) handOver.get(OUTPUT);
        if (unsent.length > 0) {
            c.outbox.addEvent(ByteBuffer.wrap(unsent)); // the event writer writes it first
        }
        return c;
    }

    private WireConnection(SocketChannel channel, Store store, byte[] image, int domid, boolean privileged, ClientLog log,
                           Runnable onClose) throws IOException {
        this.channel = channel;
        this.store = store;
        this.handler = new RequestHandler(store);
        this.log = log;
        this.onClose = onClose;
        channel.configureBlocking(false);
        this.selector = Selector.open();
        channel.register(selector, SelectionKey.OP_READ);
        this.outbox = new Outbox(channel);
        WatchEventSink sink =
                (path, token) -> outbox.addEvent(XsWire.frame(XsWire.WATCH_EVENT, 0, 0, Payload.strings(path, token)));
        this.connection = image == null ? store.connect(domid, privileged, sink) : store.restoreConnection(image, sink);
        this.source = ClientLog.source(connection.domid(), connection.privileged());
        this.reader = new Thread(this::readLoop, "xenstored-" + connection);
        this.eventWriter = new Thread(this::eventLoop, "xenstored-events-" + connection);
        reader.setDaemon(true);
        eventWriter.setDaemon(true);
    }

    void start() {
        eventWriter.start();
        reader.start();
    }

    /**
     * Waits (until {@code deadlineNanos}) for this connection's threads to end after {@link #close}:
     * a channel closed while a thread is blocked reading it keeps its socket until that read
     * returns, so only then is the socket really gone.
     */
    void awaitThreads(long deadlineNanos) throws InterruptedException {
        for (Thread t : new Thread[] {reader, eventWriter}) {
            long left = deadlineNanos - System.nanoTime();
            if (t != Thread.currentThread() && left > 0) {
                t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
        }
    }

    Connection connection() {
        return connection;
    }

    private void readLoop() {
        boolean handedOver = false;
        try {
            while (true) {
                selector.select();
                if (stopping) {
                    handedOver = true;
                    return;
                }
                selector.selectedKeys().clear();
                int n = channel.read(in);
                if (!handleFrames()) {
                    return;
                }
                if (n < 0) {
                    if (in.position() > 0) {
                        log.warn(source, connection + ": closed in the middle of a frame");
                    }
                    return; // orderly close between frames
                }
            }
        } catch (IOException e) {
            if (channel.isOpen()) {
                log.info(source, connection + ": " + e.getMessage());
            }
        } catch (java.nio.channels.ClosedSelectorException e) {
            // closed under the reader: the daemon stops
        } catch (RuntimeException e) {
            log.warn(source, connection + ": " + e);
        } finally {
            if (!handedOver) {
                close();
            }
        }
    }

    /** Handles every whole frame read so far; false when the connection must end. */
    private boolean handleFrames() throws IOException {
        in.flip();
        try {
            while (in.remaining() >= XsWire.HEADER_LENGTH) {
                int at = in.position();
                int len = in.getInt(at + XsWire.LEN_OFFSET);
                if (Integer.compareUnsigned(len, XsWire.PAYLOAD_MAX) > 0) {
                    log.warn(source, connection + ": frame of " + Integer.toUnsignedString(len)
                            + " bytes exceeds " + XsWire.PAYLOAD_MAX + ", closing it");
                    return false;
                }
                if (in.remaining() < XsWire.HEADER_LENGTH + len) {
                    return true;
                }
                byte[] payload = new byte[len];
                in.position(at + XsWire.HEADER_LENGTH);
                in.get(payload);
                handler.handle(connection, in.getInt(at + XsWire.TYPE_OFFSET), in.getInt(at + XsWire.REQ_ID_OFFSET),
                        in.getInt(at + XsWire.TX_ID_OFFSET), payload, outbox::addReply);
                outbox.flush();
                if (outbox.overflowed()) {
                    log.warn(source, connection + ": does not read its watch events, closing it");
                    return false;
                }
            }
            return true;
        } finally {
            in.compact();
        }
    }

    private void eventLoop() {
        try {
            while (outbox.awaitEvent()) {
                outbox.flush();
            }
        } catch (InterruptedException | IOException e) {
            // ends the loop: an overflow closed the outbox under a write waiting for room, or the socket went
        }
        if (outbox.overflowed()) {
            log.warn(source, connection + ": does not read its watch events, closing it");
            close();
        } else if (!stopping) {
            close();
        }
    }

    /**
     * First step of a hand-over: the reader stops between requests, and no write waits for a
     * client that does not read (what it would write stays queued); the socket stays open.
     */
    void stopReading() throws InterruptedException {
        stopping = true;
        outbox.stopWriter();
        selector.wakeup();
        reader.join(TimeUnit.SECONDS.toMillis(5));
    }

    /**
     * Last step of a hand-over, once no request runs anywhere (so no event can be added): the
     * socket, the connection's image, the unhandled input and what is still to be written
     * (replies and watch events, in order) are returned for the successor. Null if the
     * connection had ended.
     */
    Map<String, Object> handOver() throws InterruptedException, IOException {
        eventWriter.join(TimeUnit.SECONDS.toMillis(5));
        if (closed.get() || !channel.isOpen()) {
            return null;
        }
        byte[] unsent = outbox.takeUnsent();
        selector.close(); // deregisters the socket, so the successor can register it with its own
        return Map.of(CHANNEL, channel, STATE, store.connectionImage(connection),
                INPUT, Arrays.copyOf(in.array(), in.position()), OUTPUT, unsent);
    }

    void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        store.disconnect(connection);
        outbox.close();
        try {
            channel.close();
            selector.close();
        } catch (IOException ignored) {
            // already gone
        }
        onClose.run();
    }
}
