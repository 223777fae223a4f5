package io.backplane.netback;

import static io.backplane.ring.layout.NetifConstants.NETIF_RSP_ERROR;
import static io.backplane.ring.layout.NetifConstants.NETRXF_MORE_DATA;

import io.backplane.api.ring.SegmentCopy;
import io.backplane.api.ring.SegmentIo;
import io.backplane.ring.BackRing;
import io.backplane.ring.NetifRxRequest;
import io.backplane.ring.NetifRxResponse;
import io.backplane.ring.RingOverflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The RX half of one queue (Linux xen-netback/rx.c): frames from the sink wait in a bounded
 * backlog; each takes as many of the frontend's posted RX requests as it needs pages (one without
 * feature-sg), is copied into the granted pages (one {@link SegmentIo#copy} batch per pass) and
 * answered with one response per slot, the status carrying the bytes in that slot. Runs on the worker thread;
 * {@link #offer} is called by the sink's reader.
 */
final class RxPath {
    private static final int PAGE = 4096;
    /** Frames waiting for RX requests (netback's rx queue, bounded by its rx_queue_max). */
    static final int BACKLOG = 512;
    private static final int BUDGET = 64;
    private static final int MAX_FRAME = 1 << 16;
    private static final int BATCH_BYTES = 1 << 20;

    private BackRing ring;
    private SegmentIo io;
    private final QueueStats stats;
    private final boolean sg;
    private final Runnable notifyFrontend;
    private final BlockingQueue<byte[]> backlog = new ArrayBlockingQueue<>(BACKLOG);
    /** The frames of one pass, side by side, so their copies go as one batch. */
    private final ByteBuffer batch = ByteBuffer.allocateDirect(BATCH_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    private final List<SegmentCopy> copies = new ArrayList<>();
    private final int[] copyStatus = new int[BUDGET * (MAX_FRAME / PAGE + 1)];
    private final int[] rspId = new int[BUDGET * (MAX_FRAME / PAGE + 1)];
    private final int[] rspLength = new int[rspId.length];
    private final int[] rspFlags = new int[rspId.length];
    /** Per frame of the pass: its first slot and its length. */
    private final int[] frameFirstSlot = new int[BUDGET + 1];
    private final int[] frameLength = new int[BUDGET];
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
            if (data.length <= MAX_FRAME && (sg || data.length <= PAGE)
                    && backlog.offer(data, waitMillis, TimeUnit.MILLISECONDS)) {
                return true;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        stats.rxDropped.incrementAndGet();
        return false;
    }

    /** One pass: delivers what fits in the posted requests, its copies as one batch. True when it answered any. */
    boolean poll() {
        int delivered = 0;
        int slotsUsed = 0;
        int available = available();
        batch.clear();
        copies.clear();
        while (delivered < BUDGET && batch.remaining() >= MAX_FRAME) {
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
            frameFirstSlot[delivered] = slotsUsed;
            frameLength[delivered] = head.length;
            slotsUsed = take(head, slots, slotsUsed);
            available -= slots;
            head = null;
            delivered++;
        }
        if (delivered == 0) {
            return false;
        }
        frameFirstSlot[delivered] = slotsUsed;
        io.copy(copies, copyStatus);
        io.flush();
        for (int f = 0; f < delivered; f++) {
            boolean ok = true;
            for (int s = frameFirstSlot[f]; s < frameFirstSlot[f + 1]; s++) {
                rsp.id = rspId[s];
                rsp.offset = 0;
                rsp.flags = rspFlags[s];
                rsp.status = copyStatus[s] == 0 ? rspLength[s] : NETIF_RSP_ERROR;
                ok &= copyStatus[s] == 0;
                ring.putResponse(rsp);
            }
            if (ok) {
                stats.rxPackets.incrementAndGet();
                stats.rxBytes.addAndGet(frameLength[f]);
            } else {
                stats.rxErrors.incrementAndGet();
            }
        }
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

    /** Hot swap: carries on over another mapping of the same ring; on the worker, at a batch boundary. */
    void rebind(BackRing ring, SegmentIo io) {
        this.ring = ring;
        this.io = io;
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

    /** Consumes {@code slots} RX requests for one frame and queues its copies; returns the next slot index. */
    private int take(byte[] data, int slots, int slot) {
        int base = batch.position();
        batch.put(data);
        for (int s = 0; s < slots; s++, slot++) {
            ring.copyRequest(req);
            int off = s * PAGE;
            int len = Math.min(PAGE, data.length - off);
            rspId[slot] = req.id;
            rspLength[slot] = len;
            rspFlags[slot] = s + 1 < slots ? NETRXF_MORE_DATA : 0;
            copies.add(SegmentCopy.toGuest(batch, base + off, req.gref, 0, len));
        }
        return slot;
    }
}
