package io.backplane.xenstore.wire;

import io.backplane.xenstore.store.Connection;
import io.backplane.xenstore.store.Store;

import io.backplane.xs.wire.Payload;
import io.backplane.xs.wire.XsWire;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One client socket: a reader thread that decodes requests and writes their replies, and an
 * event writer thread for watch events. A frame announcing more than 4096 bytes, or a socket
 * closing mid-frame, ends only this connection (C xenstored's {@code ignore_connection}).
 */
final class WireConnection {
    private final SocketChannel channel;
    private final Store store;
    private final RequestHandler handler;
    private final ClientLog log;
    /** Who the log lines of this connection are about, for the rate limit. */
    private final String source;
    private final Outbox outbox;
    private final Connection connection;
    private final Runnable onClose;
    private final Thread reader;
    private final Thread eventWriter;
    private final AtomicBoolean closed = new AtomicBoolean();

    WireConnection(SocketChannel channel, Store store, int domid, boolean privileged, ClientLog log, Runnable onClose) {
        this.channel = channel;
        this.store = store;
        this.handler = new RequestHandler(store);
        this.log = log;
        this.source = ClientLog.source(domid, privileged);
        this.onClose = onClose;
        this.outbox = new Outbox(channel);
        this.connection = store.connect(domid, privileged,
                (path, token) -> outbox.addEvent(XsWire.frame(XsWire.WATCH_EVENT, 0, 0, Payload.strings(path, token))));
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
                t.join(Math.max(1, java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(left)));
            }
        }
    }

    Connection connection() {
        return connection;
    }

    private void readLoop() {
        ByteBuffer header = XsWire.newHeader();
        try {
            while (true) {
                header.clear();
                if (!readFully(header, true)) {
                    return; // orderly close between frames
                }
                int type = header.getInt(XsWire.TYPE_OFFSET);
                int reqId = header.getInt(XsWire.REQ_ID_OFFSET);
                int txId = header.getInt(XsWire.TX_ID_OFFSET);
                int len = header.getInt(XsWire.LEN_OFFSET);
                if (Integer.compareUnsigned(len, XsWire.PAYLOAD_MAX) > 0) {
                    log.warn(source, connection + ": frame of " + Integer.toUnsignedString(len)
                            + " bytes exceeds " + XsWire.PAYLOAD_MAX + ", closing it");
                    return;
                }
                ByteBuffer payload = ByteBuffer.allocate(len);
                readFully(payload, false);
                handler.handle(connection, type, reqId, txId, payload.array(), outbox::addReply);
                outbox.flush();
                if (outbox.overflowed()) {
                    log.warn(source, connection + ": does not read its watch events, closing it");
                    return;
                }
            }
        } catch (EOFException e) {
            log.warn(source, connection + ": closed in the middle of a frame");
        } catch (IOException e) {
            if (channel.isOpen()) {
                log.info(source, connection + ": " + e.getMessage());
            }
        } catch (RuntimeException e) {
            log.warn(source, connection + ": " + e);
        } finally {
            close();
        }
    }

    /** False on EOF before the first byte when {@code eofOk}; EOFException on EOF later. */
    private boolean readFully(ByteBuffer b, boolean eofOk) throws IOException {
        while (b.hasRemaining()) {
            if (channel.read(b) < 0) {
                if (eofOk && b.position() == 0) {
                    return false;
                }
                throw new EOFException();
            }
        }
        return true;
    }

    private void eventLoop() {
        try {
            while (outbox.awaitEvent()) {
                outbox.flush();
            }
            if (outbox.overflowed()) {
                log.warn(source, connection + ": does not read its watch events, closing it");
                close();
            }
        } catch (InterruptedException | IOException e) {
            close();
        }
    }

    void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        store.disconnect(connection);
        outbox.close();
        try {
            channel.close();
        } catch (IOException ignored) {
            // already gone
        }
        onClose.run();
    }
}
