package io.backplane.guest.netfront;

import static io.backplane.ring.layout.NetifConstants.NETIF_RSP_NULL;
import static io.backplane.ring.layout.NetifConstants.NETIF_RSP_OKAY;
import static io.backplane.ring.layout.NetifConstants.NETRXF_MORE_DATA;
import static io.backplane.ring.layout.NetifConstants.NETTXF_MORE_DATA;

import io.backplane.api.hypervisor.EventChannel;
import io.backplane.guest.sim.SimGuest;
import io.backplane.ring.FrontRing;
import io.backplane.ring.LegacyRingLayout;
import io.backplane.ring.NetifRxRequest;
import io.backplane.ring.NetifRxResponse;
import io.backplane.ring.NetifTxRequest;
import io.backplane.ring.NetifTxResponse;
import io.backplane.ring.layout.SharedRingDescriptor;
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
    private static final int PAGE = 4096;
    private static final long IDLE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    final int id;
    final QueueCounters counters = new QueueCounters();
    private final SimGuest guest;
    private final int backendId;
    private final boolean backendSg;
    private final NetfrontStack stack;
    private final int slots;
    private final long txRingFrame;
    private final long rxRingFrame;
    final int txRingRef;
    final int rxRingRef;
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
    private final byte[] assembly = new byte[1 << 16];
    private int assembled;
    private volatile Thread thread;
    private volatile boolean running;
    private final java.util.Set<Integer> ended = new java.util.HashSet<>();
    private boolean pagesFreed;

    /** setup_netfront(): rings, grants, channels; split when asked (event-channel-tx/-rx). */
    NetfrontQueue(SimGuest guest, int backendId, int id, boolean split, boolean backendSg, NetfrontStack stack) {
        this.guest = guest;
        this.backendSg = backendSg;
        this.backendId = backendId;
        this.id = id;
        this.stack = stack;
        LegacyRingLayout txLayout = LegacyRingLayout.ofPages(1, SharedRingDescriptor.NETIF_TX_ENTRY_LENGTH);
        LegacyRingLayout rxLayout = LegacyRingLayout.ofPages(1, SharedRingDescriptor.NETIF_RX_ENTRY_LENGTH);
        this.slots = txLayout.entries();
        txRingFrame = guest.memory().allocPage();
        rxRingFrame = guest.memory().allocPage();
        tx = FrontRing.init(guest.memory().page(txRingFrame), txLayout);
        rx = FrontRing.init(guest.memory().page(rxRingFrame), rxLayout);
        txRingRef = guest.grants().grantAccess(backendId, txRingFrame, false);
        rxRingRef = guest.grants().grantAccess(backendId, rxRingFrame, false);
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
            rxRefs[i] = guest.grants().grantAccess(backendId, bufferFrames + slots + i, false);
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

    /**
     * Sends one frame, one slot per page of it, data at offset 0 of each page. A frame beyond one
     * page without the backend's feature-sg is dropped and counted failed (netfront would not
     * have offered the stack scatter-gather).
     */
    boolean send(byte[] frame) {
        int need = Math.max(1, (frame.length + PAGE - 1) / PAGE);
        if (need > 1 && !backendSg) {
            counters.txFailed.incrementAndGet();
            return true;
        }
        if (need > freeTxIds.size() || need > tx.freeRequests()) {
            return false;
        }
        for (int s = 0; s < need; s++) {
            int txId = freeTxIds.remove();
            int off = s * PAGE;
            int len = Math.min(PAGE, frame.length - off);
            txPages[txId].put(0, frame, off, len);
            packetStart[txId] = s == 0;
            txReq.id = txId;
            txReq.gref = txRefs[txId];
            txReq.offset = 0;
            txReq.size = s == 0 ? frame.length : len;
            txReq.flags = s + 1 < need ? NETTXF_MORE_DATA : 0;
            tx.putRequest(txReq);
        }
        counters.txSent.incrementAndGet();
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

    private boolean reapRx() {
        int n = rx.unconsumedResponses();
        for (int i = 0; i < n; i++) {
            rx.copyResponse(rxRsp);
            int rxId = rxRsp.id;
            if (rxId < 0 || rxId >= rxRefs.length) {
                counters.rxBad.incrementAndGet();
                continue;
            }
            int len = rxRsp.status;
            if (len < 0 || rxRsp.offset + len > PAGE || assembled + len > assembly.length) {
                counters.rxBad.incrementAndGet();
                assembled = 0;
            } else {
                rxPages[rxId].get(rxRsp.offset, assembly, assembled, len);
                assembled += len;
                if ((rxRsp.flags & NETRXF_MORE_DATA) == 0) {
                    counters.rxReceived.incrementAndGet();
                    stack.received(this, assembly, assembled);
                    assembled = 0;
                }
            }
            postRx(rxId);
        }
        if (n > 0 && rx.pushRequestsAndCheckNotify()) {
            rxEvent.notifyRemote();
        }
        return n > 0;
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
        boolean all = endAccess(txRingRef) & endAccess(rxRingRef);
        for (int r : txRefs) {
            all &= endAccess(r);
        }
        for (int r : rxRefs) {
            all &= endAccess(r);
        }
        if (all) {
            guest.memory().freePages(txRingFrame, 1);
            guest.memory().freePages(rxRingFrame, 1);
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
