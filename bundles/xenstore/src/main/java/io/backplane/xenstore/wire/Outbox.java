package io.backplane.xenstore.wire;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;

/**
 * The frames waiting to go out on one connection, in order. Replies are written by the
 * connection's reader thread right after it queues them (no thread hand-off on the request
 * path); watch events, queued by whichever thread changed the store, are written by the
 * connection's event writer thread. A client that stops reading events is cut off once
 * {@link #MAX_QUEUED} frames wait, instead of growing the daemon's memory. The socket is
 * non-blocking (its reader selects): a write that finds the socket full waits until it drains.
 */
final class Outbox {
    static final int MAX_QUEUED = 4096;

    private final SocketChannel channel;
    private final ArrayDeque<ByteBuffer> queue = new ArrayDeque<>();
    private final Object writeLock = new Object();
    private boolean eventPending;
    private boolean closed;
    private boolean overflowed;
    private boolean writerStopped;
    /** Waits for room in the socket; opened at the first full write (guarded by writeLock). */
    private Selector writable;

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
                    if (channel.write(b) == 0) {
                        awaitWritable();
                    }
                }
            }
        }
    }

    private void awaitWritable() throws IOException {
        if (writable == null) {
            writable = Selector.open();
            channel.register(writable, SelectionKey.OP_WRITE);
        }
        writable.select(1000);
        writable.selectedKeys().clear();
        if (!channel.isOpen()) {
            throw new java.nio.channels.ClosedChannelException();
        }
    }

    /** Blocks until an event was queued; false once closed or the writer is stopped. */
    synchronized boolean awaitEvent() throws InterruptedException {
        while (!eventPending && !closed && !writerStopped) {
            wait();
        }
        eventPending = false;
        return !closed && !writerStopped;
    }

    /** Ends the event writer's loop and keeps what is queued (a hand-over writes it itself). */
    synchronized void stopWriter() {
        writerStopped = true;
        notifyAll();
    }

    /** Gives up the socket's registration for writing (a hand-over: the successor registers its own). */
    void closeSelector() throws IOException {
        synchronized (writeLock) {
            if (writable != null) {
                writable.close();
                writable = null;
            }
        }
    }

    void close() {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        try {
            closeSelector();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
