package io.backplane.netback;

import static io.backplane.ring.layout.NetifConstants.NETIF_RSP_ERROR;
import static io.backplane.ring.layout.NetifConstants.NETRXF_MORE_DATA;

import io.backplane.api.ring.SegmentIo;
import io.backplane.ring.BackRing;
import io.backplane.ring.NetifRxRequest;
import io.backplane.ring.NetifRxResponse;
import io.backplane.ring.RingOverflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The RX half of one queue (Linux xen-netback/rx.c): frames from the sink wait in a bounded
 * backlog; each takes as many of the frontend's posted RX requests as it needs pages (one without
 * feature-sg), is copied into the granted pages with {@link SegmentIo#write} and answered with
 * one response per slot, the status carrying the bytes in that slot. Runs on the worker thread;
 * {@link #offer} is called by the sink's reader.
 */
final class RxPath {
    private static final int PAGE = 4096;
    /** Frames waiting for RX requests (netback's rx queue, bounded by its rx_queue_max). */
    static final int BACKLOG = 512;
    private static final int BUDGET = 64;

    private final BackRing ring;
    private final SegmentIo io;
    private final QueueStats stats;
    private final boolean sg;
    private final Runnable notifyFrontend;
    private final BlockingQueue<byte[]> backlog = new ArrayBlockingQueue<>(BACKLOG);
    private final ByteBuffer frame = ByteBuffer.allocateDirect(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
    private final NetifRxRequest req = new NetifRxRequest();
    private final NetifRxResponse rsp = new NetifRxResponse();
    private byte[] head;

    RxPath(BackRing ring, SegmentIo io, QueueStats stats, boolean sg, Runnable notifyFrontend) {
        this.ring = ring;
        this.io = io;
        this.stats = stats;
        this.sg = sg;
        this.notifyFrontend = notifyFrontend;
    }

    /**
     * Queues a frame for the guest, waiting up to {@code waitMillis} for room: the sink's reader
     * slows down rather than drop, so an overloaded vif loses frames where a NIC would (in the
     * TAP's queue). False, counted as dropped, when it still does not fit.
     */
    boolean offer(byte[] data, long waitMillis) {
        try {
            if (data.length <= frame.capacity() && (sg || data.length <= PAGE)
                    && backlog.offer(data, waitMillis, TimeUnit.MILLISECONDS)) {
                return true;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        stats.rxDropped.incrementAndGet();
        return false;
    }

    /** One pass: delivers what fits in the posted requests. True when it answered any. */
    boolean poll() {
        int delivered = 0;
        int available = available();
        while (delivered < BUDGET) {
            if (head == null) {
                head = backlog.poll();
                if (head == null) {
                    break;
                }
            }
            int slots = Math.max(1, (head.length + PAGE - 1) / PAGE);
            if (available < slots) {
                available = available();
                if (available < slots) {
                    break;           // wait for the frontend to post more buffers
                }
            }
            deliver(head, slots);
            available -= slots;
            head = null;
            delivered++;
        }
        if (delivered == 0) {
            return false;
        }
        io.flush();
        if (ring.pushResponsesAndCheckNotify()) {
            notifyFrontend.run();
        }
        return true;
    }

    /** True when a frame waits and the frontend has a request for it (after asking for an event). */
    boolean hasWork() {
        if (head == null && backlog.isEmpty()) {
            return false;
        }
        try {
            return ring.finalCheckForRequests();
        } catch (RingOverflowException e) {
            throw new FrontendFault(e.getMessage());
        }
    }

    /** Frames still waiting; they are dropped when the queue stops. */
    int waiting() {
        return backlog.size() + (head == null ? 0 : 1);
    }

    private int available() {
        try {
            return ring.unconsumedRequests();
        } catch (RingOverflowException e) {
            throw new FrontendFault(e.getMessage());
        }
    }

    private void deliver(byte[] data, int slots) {
        frame.clear();
        frame.put(data);
        boolean ok = true;
        for (int s = 0; s < slots; s++) {
            ring.copyRequest(req);
            int off = s * PAGE;
            int len = Math.min(PAGE, data.length - off);
            int status = io.write(frame, off, req.gref, 0, len);
            rsp.id = req.id;
            rsp.offset = 0;
            rsp.flags = s + 1 < slots ? NETRXF_MORE_DATA : 0;
            rsp.status = status == 0 ? len : NETIF_RSP_ERROR;
            ok &= status == 0;
            ring.putResponse(rsp);
        }
        if (ok) {
            stats.rxPackets.incrementAndGet();
            stats.rxBytes.addAndGet(data.length);
        } else {
            stats.rxErrors.incrementAndGet();
        }
    }
}
