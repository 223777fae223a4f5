package io.backplane.netback.sink;

import io.backplane.api.sink.PacketSink;
import java.nio.ByteBuffer;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The in-memory host end of a vif, for hosts where TAP is not permitted and for tests. With
 * loopback, every frame the guest sends comes back to it (so a netfront can verify its own
 * traffic); without, frames wait for {@link #takeTransmitted} and {@link #inject} feeds the guest.
 * Queues are bounded; what overflows is counted as dropped, never blocks the data path.
 */
public final class MemorySink implements PacketSink {
    private static final int QUEUE = 4096;

    private final String name;
    private final boolean loopback;
    private final String describe;
    private final BlockingQueue<byte[]> toGuest = new LinkedBlockingQueue<>(QUEUE);
    private final BlockingQueue<byte[]> fromGuest = new LinkedBlockingQueue<>(QUEUE);
    private final AtomicLong dropped = new AtomicLong();
    private volatile boolean closed;

    public MemorySink(String name, boolean loopback, String why) {
        this.name = name;
        this.loopback = loopback;
        this.describe = "in-memory " + name + (loopback ? " (loopback)" : "") + (why.isEmpty() ? "" : ": " + why);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String describe() {
        return describe;
    }

    @Override
    public void transmit(ByteBuffer frame) {
        byte[] copy = new byte[frame.remaining()];
        frame.duplicate().get(copy);
        if (!(loopback ? toGuest : fromGuest).offer(copy)) {
            dropped.incrementAndGet();
        }
    }

    @Override
    public int receive(ByteBuffer frame, int timeoutMillis) {
        if (closed) {
            return -1;
        }
        try {
            byte[] f = timeoutMillis < 0 ? toGuest.take() : toGuest.poll(timeoutMillis, TimeUnit.MILLISECONDS);
            if (f == null) {
                return closed ? -1 : 0;
            }
            frame.put(frame.position(), f);
            return f.length;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** A frame from the host side for the guest; false when the queue is full (dropped). */
    public boolean inject(byte[] frame) {
        boolean ok = toGuest.offer(frame.clone());
        if (!ok) {
            dropped.incrementAndGet();
        }
        return ok;
    }

    /** The next frame the guest sent (without loopback), or null after {@code timeoutMillis}. */
    public byte[] takeTransmitted(long timeoutMillis) throws InterruptedException {
        return fromGuest.poll(timeoutMillis, TimeUnit.MILLISECONDS);
    }

    public long dropped() {
        return dropped.get();
    }

    @Override
    public void close() {
        closed = true;
    }
}
