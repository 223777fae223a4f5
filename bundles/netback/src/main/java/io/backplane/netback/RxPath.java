package io.backplane.netback;

import static io.backplane.ring.layout.NetifConstants.NETIF_RSP_ERROR;
import static io.backplane.ring.layout.NetifConstants.NETRXF_EXTRA_INFO;
import static io.backplane.ring.layout.NetifConstants.NETRXF_MORE_DATA;
import static io.backplane.ring.layout.NetifConstants.XEN_NETIF_EXTRA_TYPE_GSO;
import static io.backplane.ring.layout.NetifConstants.XEN_NETIF_GSO_TYPE_NONE;

import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.ring.SegmentCopy;
import io.backplane.api.ring.SegmentIo;
import io.backplane.api.sink.PacketSink;
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
 *
 * <p>Zero copy ({@link #receiveDirect}): when the ring's strategy lends the pages of the posted
 * buffers, the queue's sink reader reads the next frame from its host queue straight into them
 * (one readv on a TAP), its virtio header into a small buffer of ours, and answers it there: no
 * copy at all.
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
    static final int BATCH_BYTES = 1 << 20;
    /** Data slots of the largest frame. */
    private static final int MAX_DATA_SLOTS = (MAX_FRAME + PAGE - 1) / PAGE;
    /**
     * Bytes of a jumbo frame's first page answered from the second slot instead (see
     * {@link #receiveDirect}): a cache line, so the slot is not empty.
     */
    private static final int BRIDGE = 64;
    /** Requests copied ahead of req_cons, kept by ring index modulo this (a power of two above MAX_SLOTS). */
    private static final int AHEAD_WINDOW = 32;

    /** {@link #receiveDirect}: a frame was read into the guest's pages and dealt with (answered, dropped or spilled). */
    static final int DIRECT_TAKEN = 1;
    /** {@link #receiveDirect}: nothing read; the caller reads the frame into its own buffer and {@link #offer}s it. */
    static final int DIRECT_NOT_NOW = 0;
    /** {@link #receiveDirect}: the sink is closed. */
    static final int DIRECT_CLOSED = -1;

    private BackRing ring;
    private SegmentIo io;
    private final QueueStats stats;
    private final boolean sg;
    private final Runnable notifyFrontend;
    private final BlockingQueue<RxFrame> backlog = new ArrayBlockingQueue<>(BACKLOG);
    private final RxOffload offload;
    /** The frames of one pass, side by side, so their copies go as one batch. */
    private final ByteBuffer batch;
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
    /** RX requests copied ahead of req_cons ({@link BackRing#copyRequestAhead}), by ring index. */
    private final int[] aheadId = new int[AHEAD_WINDOW];
    private final int[] aheadGref = new int[AHEAD_WINDOW];
    private int ahead;
    /** The virtio header of a frame read straight into the guest's pages, and the read's buffers. */
    private final ByteBuffer vnetHdr = ByteBuffer.allocateDirect(VnetHeader.SIZE).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer[] parts = new ByteBuffer[1 + MAX_DATA_SLOTS];
    /** The second slot's page, kept out of the read for a GSO extra (see {@link #receiveDirect}). */
    private ByteBuffer secondPage;
    /** Per page given to the read: which request after req_cons it belongs to. */
    private final int[] partSlot = new int[MAX_DATA_SLOTS];
    /** The frame being placed; volatile for {@link #waiting()}, which the sink's reader calls. */
    private volatile RxFrame head;
    /** Set by {@link #queue} while {@link #offer} converts one frame from the sink. */
    private long offerWaitMillis;
    private boolean offerDropped;

    /** @param batch {@link #BATCH_BYTES} for a pass's frames, little-endian */
    RxPath(BackRing ring, SegmentIo io, QueueStats stats, boolean sg, RxOffload offload, Runnable notifyFrontend,
           ByteBuffer batch) {
        this.ring = ring;
        this.batch = batch;
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
        ahead = 0;                 // the new ring copies them again (its mirror restarted at req_cons)
    }

    /**
     * Zero-copy RX of the sink's next frame, on the sink's reader once the sink said one waits.
     * When no frame waits in the backlog (they go first) and the frontend posted buffers for the
     * largest frame it may get (one page, or with feature-sg a 64 KiB frame's and a GSO extra's
     * slots), and the strategy lends every one of those pages, the frame is read straight into
     * them: the virtio header into {@link #vnetHdr}, the frame over the pages in slot order,
     * skipping the second slot when the frontend takes GSO (the extra goes there). A frontend
     * finds each slot's buffer by its ring position (Linux netfront's xennet_get_rx_ref(cons)),
     * so a jumbo frame that is not GSO, read over slots 0, 2, 3.., must answer slot 1 with data
     * too: the last {@link #BRIDGE} bytes of its first page are moved into slot 1's page and the
     * frame goes as slot 0 (4096 - BRIDGE bytes), slot 1 (BRIDGE bytes), then slots 2.. as read,
     * NETRXF_more_data on all but the last. Requests are copied ahead of req_cons and consumed
     * only as the frame uses them, so the rest serve the next frame. A frame that must be
     * completed or segmented here is copied out and goes the copy path (counted as spilled); one
     * that does not fit what the frontend takes is dropped.
     *
     * @return {@link #DIRECT_TAKEN}, {@link #DIRECT_NOT_NOW} (nothing read: a page not lent,
     *         too few buffers, frames queued, or no frame after all) or {@link #DIRECT_CLOSED}
     */
    int receiveDirect(PacketSink sink) {
        if (head != null || !backlog.isEmpty()) {
            return DIRECT_NOT_NOW;
        }
        boolean extraSlot = offload.takesGso();
        int need = sg ? MAX_DATA_SLOTS + (extraSlot ? 1 : 0) : 1;
        if (available() < need) {
            return DIRECT_NOT_NOW;
        }
        int base = ring.requestConsumer();
        int pages = 0;
        for (int s = 0; s < need; s++) {
            copyAhead(s + 1);            // one by one: a strategy that lends nothing costs one copy ahead
            ByteBuffer page = io.direct(aheadGref[(base + s) & (AHEAD_WINDOW - 1)], 0, PAGE, true);
            if (page == null) {
                io.flush();
                return DIRECT_NOT_NOW;    // grant copy for this frame: the copy path
            }
            if (extraSlot && s == 1) {
                secondPage = page;
                continue;
            }
            parts[1 + pages] = page;
            partSlot[pages++] = s;
        }
        parts[0] = vnetHdr.clear();
        int n = sink.receive(parts, 0, 1 + pages);
        if (n <= 0) {
            io.flush();
            return n < 0 ? DIRECT_CLOSED : DIRECT_NOT_NOW;
        }
        int length = n - VnetHeader.SIZE;
        if (length <= 0 || length > pages * PAGE || length > MAX_FRAME) {
            // Truncated by the read (larger than what the frontend takes without feature-sg) or empty.
            io.flush();
            stats.rxDropped.incrementAndGet();
            return DIRECT_TAKEN;
        }
        int placed = offload.place(vnetHdr, 0, parts[1], 0, Math.min(length, PAGE), length);
        int dataSlots = (length + PAGE - 1) / PAGE;
        boolean gso = placed == RxOffload.AS_IS && offload.gsoType != XEN_NETIF_GSO_TYPE_NONE;
        if (placed == RxOffload.DROP) {
            io.flush();
            return DIRECT_TAKEN;
        }
        if (placed == RxOffload.CONVERT) {
            spill(length, dataSlots);
            return DIRECT_TAKEN;
        }
        int bridge = extraSlot && !gso && dataSlots > 1 ? BRIDGE : 0;
        if (bridge > 0) {
            secondPage.put(0, parts[1], PAGE - bridge, bridge);
        }
        // The loan ends before the responses hand the pages back. What readv (and the bridge
        // copy) wrote into them is published by the release store of rsp_prod below (ring.h's
        // wmb before rsp_prod).
        io.flush();
        int used = dataSlots + (gso || bridge > 0 ? 1 : 0);
        ring.consumeCopiedRequests(used);
        ahead -= used;
        for (int k = 0; k < dataSlots; k++) {
            rsp.id = aheadId[(base + partSlot[k]) & (AHEAD_WINDOW - 1)];
            rsp.offset = 0;
            rsp.status = Math.min(PAGE, length - k * PAGE) - (k == 0 ? bridge : 0);
            rsp.flags = (k + 1 < dataSlots ? NETRXF_MORE_DATA : 0) | (k == 0 ? offload.flags | (gso ? NETRXF_EXTRA_INFO : 0) : 0);
            ring.putResponse(rsp);
            if (k == 0 && gso) {
                extra.type = XEN_NETIF_EXTRA_TYPE_GSO;
                extra.flags = 0;
                ring.putResponse(extra.gso(offload.gsoSize, offload.gsoType));
            }
            if (k == 0 && bridge > 0) {
                rsp.id = aheadId[(base + 1) & (AHEAD_WINDOW - 1)];
                rsp.offset = 0;
                rsp.status = bridge;
                rsp.flags = NETRXF_MORE_DATA;
                ring.putResponse(rsp);
            }
        }
        stats.rxPackets.incrementAndGet();
        stats.rxBytes.addAndGet(length);
        stats.rxZeroCopy.incrementAndGet();
        if ((offload.flags & NetifConstants.NETRXF_CSUM_BLANK) != 0) {
            stats.rxCsumBlank.incrementAndGet();
        }
        if (gso) {
            stats.rxGso.incrementAndGet();
        }
        if (ring.pushResponsesAndCheckNotify()) {
            notifyFrontend.run();
        }
        return DIRECT_TAKEN;
    }

    /** A frame read into the guest's pages that cannot be answered there: copied out, then the copy path. */
    private void spill(int length, int dataSlots) {
        byte[] raw = new byte[VnetHeader.SIZE + length];
        vnetHdr.get(0, raw, 0, VnetHeader.SIZE);
        for (int k = 0; k < dataSlots; k++) {
            parts[1 + k].get(0, raw, VnetHeader.SIZE + k * PAGE, Math.min(PAGE, length - k * PAGE));
        }
        io.flush();
        stats.rxZeroCopySpilled.incrementAndGet();
        if (offer(raw, 0)) {
            while (poll() && waiting() > 0) {
                // one budget per pass; go on while the frontend has buffers
            }
        }
    }

    /** Copies requests ahead of req_cons until {@code need} are known ({@link #available()} saw them). */
    private void copyAhead(int need) {
        int base = ring.requestConsumer();
        while (ahead < need) {
            ring.copyRequestAhead(ahead, req);
            aheadId[(base + ahead) & (AHEAD_WINDOW - 1)] = req.id;
            aheadGref[(base + ahead) & (AHEAD_WINDOW - 1)] = req.gref;
            ahead++;
        }
    }

    /** The request at req_cons into {@link #req}, consumed: the copy made ahead when there is one. */
    private void takeRequest() {
        if (ahead > 0) {
            int i = ring.requestConsumer() & (AHEAD_WINDOW - 1);
            req.id = aheadId[i];
            req.gref = aheadGref[i];
            ring.consumeCopiedRequests(1);
            ahead--;
        } else {
            ring.copyRequest(req);
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
            takeRequest();
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
                    takeRequest();                 // the extra uses up a posted buffer, unanswered
                    rspCopy[slot] = -1;
                    rspGsoType[slot] = f.gsoType();
                    rspGsoSize[slot] = f.gsoSize();
                }
            }
        }
        return slot;
    }
}
