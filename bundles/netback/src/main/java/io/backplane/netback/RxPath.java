package io.backplane.netback;

import static io.backplane.ring.layout.NetifConstants.NETIF_RSP_ERROR;
import static io.backplane.ring.layout.NetifConstants.NETRXF_EXTRA_INFO;
import static io.backplane.ring.layout.NetifConstants.NETRXF_MORE_DATA;
import static io.backplane.ring.layout.NetifConstants.XEN_NETIF_EXTRA_TYPE_GSO;
import static io.backplane.ring.layout.NetifConstants.XEN_NETIF_GSO_TYPE_NONE;

import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.ring.SegmentCopy;
import io.backplane.api.ring.SegmentIo;
import io.backplane.netback.RxOffload.RxFrame;
import io.backplane.ring.BackRing;
import io.backplane.ring.NetifExtraInfo;
import io.backplane.ring.NetifRxRequest;
import io.backplane.ring.NetifRxResponse;
import io.backplane.ring.RingOverflowException;
import io.backplane.ring.layout.NetifConstants;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The RX half of one queue (Linux xen-netback/rx.c): frames from the sink, turned by
 * {@link RxOffload} into what the frontend takes (checksum flags, a GSO extra, or segments),
 * wait in a bounded backlog; each takes as many of the frontend's posted RX requests as it needs
 * pages (one without feature-sg) plus one for a GSO extra, is copied into the granted pages (one
 * {@link SegmentIo#copy} batch per pass) and answered with one response per slot, the status
 * carrying the bytes in that slot; the extra follows the first slot, as xenvif_rx_skb() puts it. Runs on the worker
 * thread or the sink's reader, one at a time (NetbackQueue's rxLock); {@link #offer} is called by the sink's reader.
 */
final class RxPath {
    private static final int PAGE = DomainConfig.PAGE_SIZE;
    /** Frames waiting for RX requests (netback's rx queue, bounded by its rx_queue_max). */
    static final int BACKLOG = 512;
    private static final int BUDGET = 64;
    /** The largest frame: a 64 KiB IP packet (a GSO frame from the host) and its Ethernet header. */
    private static final int MAX_FRAME = 0xFFFF + FrameHeaders.ETH_HLEN + 4;
    /** Slots of the largest frame: its pages and a GSO extra. */
    private static final int MAX_SLOTS = (MAX_FRAME + PAGE - 1) / PAGE + 1;
    private static final int BATCH_BYTES = 1 << 20;

    private BackRing ring;
    private SegmentIo io;
    private final QueueStats stats;
    private final boolean sg;
    private final Runnable notifyFrontend;
    private final BlockingQueue<RxFrame> backlog = new ArrayBlockingQueue<>(BACKLOG);
    private final RxOffload offload;
    /** The frames of one pass, side by side, so their copies go as one batch. */
    private final ByteBuffer batch = ByteBuffer.allocateDirect(BATCH_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    private final List<SegmentCopy> copies = new ArrayList<>();
    private final int[] copyStatus = new int[BUDGET * MAX_SLOTS];
    private final int[] rspId = new int[BUDGET * MAX_SLOTS];
    private final int[] rspLength = new int[rspId.length];
    private final int[] rspFlags = new int[rspId.length];
    /** Per slot: the index of its copy, or -1 for a GSO extra slot. */
    private final int[] rspCopy = new int[rspId.length];
    private final int[] rspGsoType = new int[rspId.length];
    private final int[] rspGsoSize = new int[rspId.length];
    /** Per frame of the pass: its first slot and its length. */
    private final int[] frameFirstSlot = new int[BUDGET + 1];
    private final int[] frameLength = new int[BUDGET];
    private final NetifRxRequest req = new NetifRxRequest();
    private final NetifRxResponse rsp = new NetifRxResponse();
    private final NetifExtraInfo extra = new NetifExtraInfo();
    /** The frame being placed; volatile for {@link #waiting()}, which the sink's reader calls. */
    private volatile RxFrame head;
    /** Set by {@link #queue} while {@link #offer} converts one frame from the sink. */
    private long offerWaitMillis;
    private boolean offerDropped;

    RxPath(BackRing ring, SegmentIo io, QueueStats stats, boolean sg, RxOffload offload, Runnable notifyFrontend) {
        this.ring = ring;
        this.io = io;
        this.stats = stats;
        this.sg = sg;
        this.offload = offload;
        this.notifyFrontend = notifyFrontend;
    }

    /**
     * Queues a frame for the guest, waiting up to {@code waitMillis} for room: the sink's reader
     * slows down rather than drop, so an overloaded vif loses frames where a NIC would (in the
     * TAP's queue). False, counted as dropped, when it still does not fit.
     */
    boolean offer(byte[] fromSink, long waitMillis) {
        offerWaitMillis = waitMillis;
        offerDropped = false;
        offload.convert(fromSink, this::queue);
        return !offerDropped;
    }

    private void queue(RxFrame f) {
        try {
            if (f.length() <= MAX_FRAME && (sg || f.length() <= PAGE)
                    && backlog.offer(f, offerWaitMillis, TimeUnit.MILLISECONDS)) {
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        offerDropped = true;
        stats.rxDropped.incrementAndGet();
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
            int slots = Math.max(1, (head.length() + PAGE - 1) / PAGE) + (head.gsoType() != XEN_NETIF_GSO_TYPE_NONE ? 1 : 0);
            if (available < slots) {
                available = available();
                if (available < slots) {
                    break;           // wait for the frontend to post more buffers
                }
            }
            frameFirstSlot[delivered] = slotsUsed;
            frameLength[delivered] = head.length();
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
                if (rspCopy[s] < 0) {
                    // netif_extra_info in place of a response (xenvif_rx_extra_slot).
                    extra.type = XEN_NETIF_EXTRA_TYPE_GSO;
                    extra.flags = 0;
                    ring.putResponse(extra.gso(rspGsoSize[s], rspGsoType[s]));
                    continue;
                }
                int status = copyStatus[rspCopy[s]];
                rsp.id = rspId[s];
                rsp.offset = 0;
                rsp.flags = rspFlags[s];
                rsp.status = status == 0 ? rspLength[s] : NETIF_RSP_ERROR;
                ok &= status == 0;
                ring.putResponse(rsp);
            }
            if (ok) {
                stats.rxPackets.incrementAndGet();
                stats.rxBytes.addAndGet(frameLength[f]);
                if ((rspFlags[frameFirstSlot[f]] & NetifConstants.NETRXF_CSUM_BLANK) != 0) {
                    stats.rxCsumBlank.incrementAndGet();
                }
                if ((rspFlags[frameFirstSlot[f]] & NETRXF_EXTRA_INFO) != 0) {
                    stats.rxGso.incrementAndGet();
                }
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

    /** Ends the strategy's batch between passes (the worker's idle tick, under the RX lock). */
    void flush() {
        io.flush();
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

    /**
     * Consumes {@code slots} RX requests for one frame and queues its copies; returns the next
     * slot index. The first slot carries the frame's checksum flags and, with a GSO extra, the
     * NETRXF_extra_info flag; the extra takes the second slot (xenvif_rx_skb()).
     */
    private int take(RxFrame f, int slots, int slot) {
        int base = batch.position();
        batch.put(f.data(), f.offset(), f.length());
        boolean gso = f.gsoType() != XEN_NETIF_GSO_TYPE_NONE;
        int dataSlots = slots - (gso ? 1 : 0);
        for (int s = 0; s < dataSlots; s++, slot++) {
            ring.copyRequest(req);
            int off = s * PAGE;
            int len = Math.min(PAGE, f.length() - off);
            rspId[slot] = req.id;
            rspLength[slot] = len;
            rspFlags[slot] = s + 1 < dataSlots ? NETRXF_MORE_DATA : 0;
            rspCopy[slot] = copies.size();
            copies.add(SegmentCopy.toGuest(batch, base + off, req.gref, 0, len));
            if (s == 0) {
                rspFlags[slot] |= f.flags() | (gso ? NETRXF_EXTRA_INFO : 0);
                if (gso) {
                    slot++;
                    ring.copyRequest(req);         // the extra uses up a posted buffer, unanswered
                    rspCopy[slot] = -1;
                    rspGsoType[slot] = f.gsoType();
                    rspGsoSize[slot] = f.gsoSize();
                }
            }
        }
        return slot;
    }
}
