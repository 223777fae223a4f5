package io.backplane.xenstore.wire;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;

/**
 * The frames waiting to go out on one connection, in order. Replies are written by the
 * connection's reader thread right after it queues them (no thread hand-off on the request
 * path); watch events, queued by whichever thread changed the store, are written by the
 * connection's event writer thread. A client that stops reading events is cut off once
 * {@link #MAX_QUEUED} frames wait, instead of growing the daemon's memory.
 */
final class Outbox {
    static final int MAX_QUEUED = 4096;

    private final SocketChannel channel;
    private final ArrayDeque<ByteBuffer> queue = new ArrayDeque<>();
    private final Object writeLock = new Object();
    private boolean eventPending;
    private boolean closed;
    private boolean overflowed;

    Outbox(SocketChannel channel) {
        this.channel = channel;
    }

    synchronized void addReply(ByteBuffer frame) {
        queue.add(frame);
    }

    synchronized void addEvent(ByteBuffer frame) {
        if (closed) {
            return;
        }
        if (queue.size() >= MAX_QUEUED) {
            overflowed = true;
            closed = true;
            queue.clear();
        } else {
            queue.add(frame);
        }
        eventPending = true;
        notifyAll();
    }

    synchronized boolean overflowed() {
        return overflowed;
    }

    private synchronized ByteBuffer poll() {
        return queue.poll();
    }

    /** Writes everything queued so far. */
    void flush() throws IOException {
        synchronized (writeLock) {
            ByteBuffer b;
            while ((b = poll()) != null) {
                while (b.hasRemaining()) {
                    channel.write(b);
                }
            }
        }
    }

    /** Blocks until an event was queued; false once closed. */
    synchronized boolean awaitEvent() throws InterruptedException {
        while (!eventPending && !closed) {
            wait();
        }
        eventPending = false;
        return !closed;
    }

    synchronized void close() {
        closed = true;
        notifyAll();
    }
}
