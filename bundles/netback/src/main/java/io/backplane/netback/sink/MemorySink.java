package io.backplane.netback.sink;

import io.backplane.api.sink.PacketSink;
import io.backplane.ring.layout.VirtioNetHdrDescriptor;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The in-memory host end of a vif, for hosts where TAP is not permitted and for tests. With
 * loopback, every frame the guest sends comes back to it with its virtio header unchanged, as a
 * bridge would forward it (a partial checksum stays partial, a GSO frame stays whole: netback
 * completes or segments for a frontend that did not ask for them). Without loopback, frames wait
 * for {@link #takeTransmitted} and {@link #inject} feeds the guest. Queues hold header and frame,
 * are bounded, and what overflows is counted as dropped; the data path never blocks.
 */
public final class MemorySink implements PacketSink {
    private static final int QUEUE = 4096;
    private static final int HDR = VirtioNetHdrDescriptor.LENGTH;

    private final String name;
    private final boolean loopback;
    private final String describe;
    private final BlockingQueue<byte[]> toGuest;
    private final BlockingQueue<byte[]> fromGuest;
    private final AtomicLong dropped = new AtomicLong();
    private volatile boolean closed;
    /** A frame for the guest that {@link #awaitFrame} took off the queue (the reader's thread only). */
    private byte[] waiting;

    public MemorySink(String name, boolean loopback, String why) {
        this(name, loopback, why, QUEUE);
    }

    /** With room for {@code frames} frames each way (a test that reads at its own pace wants more than a NIC's queue). */
    public MemorySink(String name, boolean loopback, String why, int frames) {
        this.toGuest = new LinkedBlockingQueue<>(frames);
        this.fromGuest = new LinkedBlockingQueue<>(frames);
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

    /** A frame in pieces: gathered straight into the queued copy (the one copy a memory sink makes). */
    @Override
    public void transmit(ByteBuffer[] parts, int from, int count) {
        int length = 0;
        for (int i = from; i < from + count; i++) {
            length += parts[i].remaining();
        }
        byte[] copy = new byte[length];
        int at = 0;
        for (int i = from; i < from + count; i++) {
            int n = parts[i].remaining();
            parts[i].get(parts[i].position(), copy, at, n);
            at += n;
        }
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
            byte[] f = waiting != null ? next() : timeoutMillis < 0 ? toGuest.take()
                    : toGuest.poll(timeoutMillis, TimeUnit.MILLISECONDS);
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

    /** Waits by taking the frame off the queue; the reader's next receive gets it. */
    @Override
    public int awaitFrame(int timeoutMillis) {
        if (closed) {
            return -1;
        }
        if (waiting == null) {
            try {
                waiting = timeoutMillis < 0 ? toGuest.take() : toGuest.poll(timeoutMillis, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return -1;
            }
        }
        return waiting != null ? 1 : closed ? -1 : 0;
    }

    /** The frame scattered over the caller's buffers as a TAP's readv does: the one copy a memory sink makes. */
    @Override
    public int receive(ByteBuffer[] parts, int from, int count) {
        if (closed) {
            return -1;
        }
        byte[] f = next();
        if (f == null) {
            return 0;
        }
        int at = 0;
        for (int i = from; i < from + count && at < f.length; i++) {
            int k = Math.min(parts[i].remaining(), f.length - at);
            parts[i].put(parts[i].position(), f, at, k);
            at += k;
        }
        return f.length;
    }

    /** The frame {@link #awaitFrame} took, else the queue's next, or null. */
    private byte[] next() {
        byte[] f = waiting;
        waiting = null;
        return f != null ? f : toGuest.poll();
    }

    /** Memory has no host stack to hand the work to: netback completes or segments what the guest did not ask for. */
    @Override
    public void acceptOffloads(boolean checksum, boolean tcpv4, boolean tcpv6) {
    }

    /** A complete frame from the host side for the guest (an all-zero header); false when the queue is full. */
    public boolean inject(byte[] frame) {
        byte[] withHeader = new byte[HDR + frame.length];
        System.arraycopy(frame, 0, withHeader, HDR, frame.length);
        return injectWithHeader(withHeader);
    }

    /** A frame for the guest with its own virtio header in front; false when the queue is full. */
    public boolean injectWithHeader(byte[] headerAndFrame) {
        boolean ok = toGuest.offer(headerAndFrame.clone());
        if (!ok) {
            dropped.incrementAndGet();
        }
        return ok;
    }

    /** The next frame the guest sent, without its header (no loopback), or null after {@code timeoutMillis}. */
    public byte[] takeTransmitted(long timeoutMillis) throws InterruptedException {
        byte[] f = takeTransmittedWithHeader(timeoutMillis);
        return f == null ? null : Arrays.copyOfRange(f, HDR, f.length);
    }

    /** The next frame the guest sent, header first, or null after {@code timeoutMillis}. */
    public byte[] takeTransmittedWithHeader(long timeoutMillis) throws InterruptedException {
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
