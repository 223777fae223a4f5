package io.backplane.xenstore.wire;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.concurrent.locks.ReentrantLock;

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
    private final ReentrantLock writeLock = new ReentrantLock();
    private boolean eventPending;
    private boolean closed;
    private boolean overflowed;
    private boolean writerStopped;
    /** Waits for room in the socket; opened at the first full write (written under writeLock). */
    private volatile Selector writable;

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

    /**
     * Writes everything queued so far. A frame the socket has no room for waits until it drains,
     * the connection closes, or a hand-over stops the writers: then it goes back to the head of
     * the queue, for the successor.
     */
    void flush() throws IOException {
        writeLock.lock();
        try {
            ByteBuffer b;
            while ((b = poll()) != null) {
                while (b.hasRemaining()) {
                    if (channel.write(b) == 0 && !awaitWritable()) {
                        synchronized (this) {
                            queue.addFirst(b);
                        }
                        return;
                    }
                }
            }
        } finally {
            writeLock.unlock();
        }
    }

    /** Waits (writeLock held) for room in the socket; false when a hand-over stops the writers. */
    private boolean awaitWritable() throws IOException {
        if (writable == null) {
            writable = Selector.open();
            channel.register(writable, SelectionKey.OP_WRITE);
        }
        writable.select(1000);
        writable.selectedKeys().clear();
        synchronized (this) {
            if (closed || !channel.isOpen()) {
                closeWritable();
                throw new ClosedChannelException();
            }
            return !writerStopped;
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

    /** A hand-over begins: the event writer ends and a write waiting for room gives up, keeping its frame queued. */
    void stopWriter() {
        synchronized (this) {
            writerStopped = true;
            notifyAll();
        }
        wakeWriter();
    }

    /**
     * The hand-over's end, once the writers stopped: every byte still queued, in order, for the
     * successor to write first; the socket's registration for writing is given up.
     */
    byte[] takeUnsent() {
        writeLock.lock();
        try {
            closeWritable();
            synchronized (this) {
                java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
                for (ByteBuffer b : queue) {
                    byte[] rest = new byte[b.remaining()];
                    b.duplicate().get(rest);
                    out.writeBytes(rest);
                }
                queue.clear();
                return out.toByteArray();
            }
        } finally {
            writeLock.unlock();
        }
    }

    void close() {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        wakeWriter();
        // A writer waiting for room closes the selector itself (it holds the lock), on seeing closed.
        if (writeLock.tryLock()) {
            try {
                closeWritable();
            } finally {
                writeLock.unlock();
            }
        }
    }

    private void wakeWriter() {
        Selector w = writable;
        if (w != null) {
            w.wakeup();
        }
    }

    private void closeWritable() {
        if (writable != null) {
            try {
                writable.close();
            } catch (IOException ignored) {
                // closing anyway
            }
            writable = null;
        }
    }
}
