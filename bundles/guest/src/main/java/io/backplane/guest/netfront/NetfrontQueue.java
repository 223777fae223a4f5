package io.backplane.guest.netfront;

import static io.backplane.ring.layout.NetifConstants.NETIF_RSP_NULL;
import static io.backplane.ring.layout.NetifConstants.NETIF_RSP_OKAY;
import static io.backplane.ring.layout.NetifConstants.NETRXF_EXTRA_INFO;
import static io.backplane.ring.layout.NetifConstants.NETRXF_GSO_PREFIX;
import static io.backplane.ring.layout.NetifConstants.NETRXF_MORE_DATA;
import static io.backplane.ring.layout.NetifConstants.NETTXF_CSUM_BLANK;
import static io.backplane.ring.layout.NetifConstants.NETTXF_EXTRA_INFO;
import static io.backplane.ring.layout.NetifConstants.NETTXF_MORE_DATA;
import static io.backplane.ring.layout.NetifConstants.XEN_NETIF_EXTRA_FLAG_MORE;
import static io.backplane.ring.layout.NetifConstants.XEN_NETIF_EXTRA_TYPE_GSO;
import static io.backplane.ring.layout.NetifConstants.XEN_NETIF_EXTRA_TYPE_MAX;
import static io.backplane.ring.layout.NetifConstants.XEN_NETIF_EXTRA_TYPE_NONE;

import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.hypervisor.EventChannel;
import io.backplane.guest.sim.SimGuest;
import io.backplane.ring.FrontRing;
import io.backplane.ring.NetifExtraInfo;
import io.backplane.ring.NetifRxRequest;
import io.backplane.ring.NetifRxResponse;
import io.backplane.ring.NetifTxRequest;
import io.backplane.ring.NetifTxResponse;
import io.backplane.ring.RingLayout;
import io.backplane.ring.RingShape;
import io.backplane.ring.layout.NetifRxRequestDescriptor;
import io.backplane.ring.layout.NetifRxResponseDescriptor;
import io.backplane.ring.layout.NetifTxRequestDescriptor;
import io.backplane.ring.layout.NetifTxResponseDescriptor;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * One netfront queue (Linux xen-netfront's netfront_queue): a TX and an RX ring page granted to
 * the backend, one buffer page per ring slot (TX pages granted read-only, RX pages writable and
 * all posted at connect), its event channel(s), and one thread that owns both rings: it reaps
 * responses, reposts RX buffers, sends replies and generated traffic. Event handlers only wake it.
 */
final class NetfrontQueue {
    private static final int PAGE = DomainConfig.PAGE_SIZE;
    private static final long IDLE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    final int id;
    final QueueCounters counters = new QueueCounters();
    private final SimGuest guest;
    private final int backendId;
    private final boolean backendSg;
    private final NetfrontStack stack;
    private final int slots;
    private final int ringPages;
    private final long txRingFrame;
    private final long rxRingFrame;
    /** Grant refs of each ring's pages: the request ring's, then (separate rings) the response ring's. */
    final int[] txRingRefs;
    final int[] rxRingRefs;
    private final FrontRing tx;
    private final FrontRing rx;
    final EventChannel txEvent;
    final EventChannel rxEvent;
    private final long bufferFrames;
    private final int[] txRefs;
    private final int[] rxRefs;
    private final ByteBuffer[] txPages;
    private final ByteBuffer[] rxPages;
    private final boolean[] packetStart;
    private final Queue<Integer> freeTxIds = new ArrayDeque<>();
    private final Queue<byte[]> outgoing = new ConcurrentLinkedQueue<>();
    private final NetifTxRequest txReq = new NetifTxRequest();
    private final NetifTxResponse txRsp = new NetifTxResponse();
    private final NetifRxRequest rxReq = new NetifRxRequest();
    private final NetifRxResponse rxRsp = new NetifRxResponse();
    private final NetifExtraInfo txExtra = new NetifExtraInfo();
    private final NetifExtraInfo rxExtra = new NetifExtraInfo();
    /** Where the queue's thread builds the frames it generates. */
    final byte[] txBuffer = new byte[1 << 16];
    /** The queue thread's parse of the frame being received. */
    final Checksums.L4 rxHeaders = new Checksums.L4();
    private final byte[] assembly = new byte[1 << 16];
    private int assembled;
    // The packet being received (xennet_get_responses): first response's flags, slots so far,
    // extras still to come, GSO extra, and whether a slot was bad.
    private boolean inPacket;
    private int rxFlags;
    private int rxSlots;
    private boolean extrasPending;
    private boolean moreData;
    private int rxGsoType;
    private int rxGsoSize;
    private boolean rxPacketBad;
    /** A slot of the packet was answered with an error status. */
    private boolean rxPacketError;
    private volatile Thread thread;
    private volatile boolean running;
    private final java.util.Set<Integer> ended = new java.util.HashSet<>();
    private boolean pagesFreed;

    /**
     * setup_netfront(): rings of 2^{@code ringOrder} pages each in {@code shape}'s layout (twice
     * the pages with separate rings: requests, then responses), grants, channels; split when
     * asked (event-channel-tx/-rx); the RX buffers of ids below {@code rxReadOnly} granted
     * read-only (a broken frontend, on purpose).
     */
    NetfrontQueue(SimGuest guest, int backendId, int id, boolean split, boolean backendSg, NetfrontStack stack,
                  int ringOrder, RingShape shape, int rxReadOnly) {
        this.guest = guest;
        this.backendSg = backendSg;
        this.backendId = backendId;
        this.id = id;
        this.stack = stack;
        int pages = 1 << ringOrder;
        RingLayout txLayout = shape.layout("netif-tx", pages, NetifTxRequestDescriptor.LENGTH, NetifTxResponseDescriptor.LENGTH);
        RingLayout rxLayout = shape.layout("netif-rx", pages, NetifRxRequestDescriptor.LENGTH, NetifRxResponseDescriptor.LENGTH);
        this.slots = txLayout.entries();
        ringPages = shape.grantedPages(pages);
        txRingFrame = guest.memory().allocPages(ringPages);
        rxRingFrame = guest.memory().allocPages(ringPages);
        tx = FrontRing.init(guest.memory().pages(txRingFrame, ringPages), txLayout);
        rx = FrontRing.init(guest.memory().pages(rxRingFrame, ringPages), rxLayout);
        txRingRefs = new int[ringPages];
        rxRingRefs = new int[ringPages];
        for (int i = 0; i < ringPages; i++) {
            txRingRefs[i] = guest.grants().grantAccess(backendId, txRingFrame + i, false);
            rxRingRefs[i] = guest.grants().grantAccess(backendId, rxRingFrame + i, false);
        }
        bufferFrames = guest.memory().allocPages(2 * slots);
        txRefs = new int[slots];
        rxRefs = new int[rxLayout.entries()];
        txPages = new ByteBuffer[slots];
        rxPages = new ByteBuffer[rxRefs.length];
        packetStart = new boolean[slots];
        for (int i = 0; i < slots; i++) {
            txPages[i] = guest.memory().page(bufferFrames + i);
            txRefs[i] = guest.grants().grantAccess(backendId, bufferFrames + i, true);
            freeTxIds.add(i);
        }
        for (int i = 0; i < rxRefs.length; i++) {
            rxPages[i] = guest.memory().page(bufferFrames + slots + i);
            rxRefs[i] = guest.grants().grantAccess(backendId, bufferFrames + slots + i, i < rxReadOnly);
        }
        txEvent = guest.eventChannels().allocUnbound(backendId, ch -> wake());
        rxEvent = split ? guest.eventChannels().allocUnbound(backendId, ch -> wake()) : txEvent;
        // xennet_alloc_rx_buffers(): every RX slot gets a buffer before the backend connects.
        for (int i = 0; i < rxRefs.length; i++) {
            postRx(i);
        }
        rx.pushRequests();
    }

    boolean split() {
        return rxEvent != txEvent;
    }

    void start(Runnable body) {
        running = true;
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (RuntimeException e) {
                System.err.println("netfront queue " + id + " stopped: " + e);
            }
        }, "netfront-q" + id);
        t.setDaemon(true);
        thread = t;
        t.start();
    }

    boolean running() {
        return running;
    }

    void wake() {
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    /** Queues a frame to be sent by the queue's thread (ARP and ICMP replies, test frames). */
    void enqueue(byte[] frame) {
        outgoing.add(frame);
        wake();
    }

    /** One pass of the queue thread; returns true when it did anything. */
    boolean poll() {
        boolean worked = reapTx();
        worked |= reapRx();
        byte[] f;
        while (freeTxIds.size() >= 17 && (f = outgoing.poll()) != null) {
            send(f);
            worked = true;
        }
        return worked;
    }

    /** Re-arms the ports and makes the final check before the thread sleeps; true when work came in. */
    boolean sleep(long nanos) {
        txEvent.unmask();
        if (rxEvent != txEvent) {
            rxEvent.unmask();
        }
        if (tx.finalCheckForResponses() | rx.finalCheckForResponses() || !outgoing.isEmpty() && freeTxIds.size() >= 17) {
            return true;
        }
        LockSupport.parkNanos(this, Math.min(nanos, IDLE_NANOS));
        return false;
    }

    int freeTxSlots() {
        return freeTxIds.size();
    }

    /** True when a frame of {@code len} bytes (plus a GSO extra) fits the ring now. */
    boolean fits(int len, boolean gso) {
        int need = Math.max(1, (len + PAGE - 1) / PAGE);
        return need <= freeTxIds.size() && need + (gso ? 1 : 0) <= tx.freeRequests();
    }

    /** Sends a whole frame without offloads (ARP and ICMP replies). */
    boolean send(byte[] frame) {
        return send(frame, frame.length, 0, 0, 0);
    }

    /**
     * Sends {@code len} bytes of {@code frame}, one slot per page of it, data at offset 0 of each
     * page, as xennet_start_xmit does: {@code flags} (NETTXF_csum_blank, NETTXF_data_validated) on
     * the first request, and for a GSO frame ({@code gsoType} != 0) NETTXF_extra_info on it and a
     * XEN_NETIF_EXTRA_TYPE_GSO slot right after it. A frame beyond one page without the backend's
     * feature-sg is dropped and counted failed (netfront would not have offered the stack
     * scatter-gather). False when the ring has no room: nothing was sent.
     */
    boolean send(byte[] frame, int len, int flags, int gsoType, int gsoSize) {
        int need = Math.max(1, (len + PAGE - 1) / PAGE);
        if (need > 1 && !backendSg) {
            counters.txFailed.incrementAndGet();
            return true;
        }
        int extras = gsoType != 0 ? 1 : 0;
        if (need > freeTxIds.size() || need + extras > tx.freeRequests()) {
            return false;
        }
        for (int s = 0; s < need; s++) {
            int txId = freeTxIds.remove();
            int off = s * PAGE;
            int n = Math.min(PAGE, len - off);
            txPages[txId].put(0, frame, off, n);
            packetStart[txId] = s == 0;
            txReq.id = txId;
            txReq.gref = txRefs[txId];
            txReq.offset = 0;
            txReq.size = s == 0 ? len : n;
            txReq.flags = (s + 1 < need ? NETTXF_MORE_DATA : 0) | (s == 0 ? flags | (extras != 0 ? NETTXF_EXTRA_INFO : 0) : 0);
            tx.putRequest(txReq);
            if (s == 0 && extras != 0) {
                txExtra.type = XEN_NETIF_EXTRA_TYPE_GSO;
                txExtra.flags = 0;
                tx.putRequest(txExtra.gso(gsoSize, gsoType));
            }
        }
        counters.txSent.incrementAndGet();
        if ((flags & NETTXF_CSUM_BLANK) != 0) {
            counters.txCsumBlank.incrementAndGet();
        }
        if (extras != 0) {
            counters.txGso.incrementAndGet();
        }
        if (tx.pushRequestsAndCheckNotify()) {
            txEvent.notifyRemote();
        }
        return true;
    }

    /**
     * Misbehaves on purpose: one request whose data crosses its page ({@code cross-page}), one
     * packet spread over 22 slots, beyond netback's fatal_skb_slots ({@code slots}), or over 20
     * slots, which netback drops ({@code drop-slots}).
     */
    void sendBogus(String kind) {
        int n = switch (kind) {
            case "slots" -> 22;
            case "drop-slots" -> 20;
            default -> 1;
        };
        for (int s = 0; s < n; s++) {
            int txId = freeTxIds.remove();
            packetStart[txId] = s == 0;
            txReq.id = txId;
            txReq.gref = txRefs[txId];
            txReq.offset = kind.equals("cross-page") ? 4000 : 0;
            txReq.size = kind.equals("cross-page") ? 200 : (s == 0 ? n * 100 : 100);
            txReq.flags = s + 1 < n ? NETTXF_MORE_DATA : 0;
            tx.putRequest(txReq);
        }
        counters.txSent.incrementAndGet();
        tx.pushRequests();
        txEvent.notifyRemote();
    }

    private boolean reapTx() {
        int n = tx.unconsumedResponses();
        for (int i = 0; i < n; i++) {
            tx.copyResponse(txRsp);
            if (txRsp.status == NETIF_RSP_NULL) {
                continue;                      // an extra-info slot
            }
            int txId = txRsp.id;
            if (txId < 0 || txId >= slots) {
                counters.txFailed.incrementAndGet();
                continue;
            }
            if (packetStart[txId]) {
                (txRsp.status == NETIF_RSP_OKAY ? counters.txAnswered : counters.txFailed).incrementAndGet();
            }
            freeTxIds.add(txId);
        }
        return n > 0;
    }

    /**
     * xennet_poll() / xennet_get_responses(): a packet is its first response (whose flags say
     * csum_blank, data_validated, extra_info), the netif_extra_info slots that follow when it
     * has NETRXF_extra_info (each also consumed an RX request, whose buffer is posted again),
     * then data slots while NETRXF_more_data. Requests are posted with id = ring index, as
     * Linux's xennet_rxidx, so an extra slot's buffer is the one at its index.
     */
    private boolean reapRx() {
        int n = rx.unconsumedResponses();
        int mask = rxRefs.length - 1;
        for (int i = 0; i < n; i++) {
            if (extrasPending) {
                int index = rx.responseConsumer();
                rx.copyResponse(rxExtra);
                rxExtra(rxExtra);
                postRx(index & mask);
                if (!extrasPending && !moreData) {
                    deliver();
                }
                continue;
            }
            rx.copyResponse(rxRsp);
            int rxId = rxRsp.id;
            if (rxId < 0 || rxId >= rxRefs.length) {
                counters.rxBad.incrementAndGet();
                continue;
            }
            if (!inPacket) {
                inPacket = true;
                rxFlags = rxRsp.flags;
                extrasPending = (rxRsp.flags & NETRXF_EXTRA_INFO) != 0;
                if ((rxRsp.flags & NETRXF_GSO_PREFIX) != 0) {
                    rxPacketBad = true;                 // the old GSO prefix: netfront never asks for it
                }
            }
            rxSlots++;
            moreData = (rxRsp.flags & NETRXF_MORE_DATA) != 0;
            int len = rxRsp.status;
            if (len < 0) {
                rxPacketError = true;                   // xennet_get_responses: err, the packet dropped
            } else if (rxRsp.offset + len > PAGE || assembled + len > assembly.length) {
                rxPacketBad = true;
            } else if (!rxPacketBad) {
                rxPages[rxId].get(rxRsp.offset, assembly, assembled, len);
                assembled += len;
            }
            postRx(rxId);
            if (!extrasPending && !moreData) {
                deliver();
            }
        }
        if (n > 0 && rx.pushRequestsAndCheckNotify()) {
            rxEvent.notifyRemote();
        }
        return n > 0;
    }

    /** xennet_get_extras(): one extra slot; a bad type spoils the packet, as netfront drops it. */
    private void rxExtra(NetifExtraInfo e) {
        extrasPending = (e.flags & XEN_NETIF_EXTRA_FLAG_MORE) != 0;
        if (e.type == XEN_NETIF_EXTRA_TYPE_NONE || e.type >= XEN_NETIF_EXTRA_TYPE_MAX) {
            rxPacketBad = true;                         // "Invalid extra type: %d"
        } else if (e.type == XEN_NETIF_EXTRA_TYPE_GSO) {
            rxGsoType = e.gsoType();
            rxGsoSize = e.gsoSize();
            if (rxGsoType == 0) {
                rxPacketBad = true;                     // "Bad GSO type"
            }
        }
    }

    private void deliver() {
        if (rxPacketError) {
            counters.rxErrors.incrementAndGet();
        } else if (rxPacketBad) {
            counters.rxBad.incrementAndGet();
        } else {
            counters.rxReceived.incrementAndGet();
            stack.received(this, assembly, assembled, rxFlags, rxSlots, rxGsoType, rxGsoSize);
        }
        inPacket = false;
        assembled = 0;
        rxSlots = 0;
        rxFlags = 0;
        moreData = false;
        extrasPending = false;
        rxGsoType = 0;
        rxGsoSize = 0;
        rxPacketBad = false;
        rxPacketError = false;
    }

    private void postRx(int rxId) {
        rxReq.id = rxId;
        rxReq.gref = rxRefs[rxId];
        rx.putRequest(rxReq);
    }

    /** Stops the thread and closes the channels; the grants are ended by {@link #release()}. */
    void close() {
        running = false;
        Thread t = thread;
        if (t != null && t != Thread.currentThread()) {
            LockSupport.unpark(t);
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (t == null || !t.isAlive()) {
            // The backend answered what it took before it went Closing; the rest is lost with the rings.
            reapTx();
            for (int id = 0; id < slots; id++) {
                if (packetStart[id] && !freeTxIds.contains(id)) {
                    counters.txDropped.incrementAndGet();
                }
            }
        }
        try {
            txEvent.close();
            if (rxEvent != txEvent) {
                rxEvent.close();
            }
        } catch (RuntimeException e) {
            // the hypervisor connection is gone with the domain
        }
    }

    /**
     * gnttab_end_foreign_access() on every grant, then frees the pages. A grant the backend
     * still maps (it unmaps once it sees us Closed) stays; true when everything was released,
     * so the caller retries later otherwise.
     */
    synchronized boolean release() {
        if (pagesFreed) {
            return true;
        }
        boolean all = true;
        for (int i = 0; i < ringPages; i++) {
            all &= endAccess(txRingRefs[i]) & endAccess(rxRingRefs[i]);
        }
        for (int r : txRefs) {
            all &= endAccess(r);
        }
        for (int r : rxRefs) {
            all &= endAccess(r);
        }
        if (all) {
            guest.memory().freePages(txRingFrame, ringPages);
            guest.memory().freePages(rxRingFrame, ringPages);
            guest.memory().freePages(bufferFrames, 2 * slots);
            pagesFreed = true;
        }
        return all;
    }

    private boolean endAccess(int ref) {
        return ended.contains(ref) || (guest.grants().release(ref) && ended.add(ref));
    }

    int backendId() {
        return backendId;
    }
}
