package io.backplane.netback;

import static io.backplane.ring.layout.NetifConstants.NETIF_RSP_ERROR;
import static io.backplane.ring.layout.NetifConstants.NETIF_RSP_NULL;
import static io.backplane.ring.layout.NetifConstants.NETIF_RSP_OKAY;
import static io.backplane.ring.layout.NetifConstants.NETTXF_EXTRA_INFO;
import static io.backplane.ring.layout.NetifConstants.NETTXF_MORE_DATA;

import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.ring.SegmentCopy;
import io.backplane.api.ring.SegmentIo;
import io.backplane.api.sink.PacketSink;
import io.backplane.ring.BackRing;
import io.backplane.ring.NetifExtraInfo;
import io.backplane.ring.NetifTxRequest;
import io.backplane.ring.NetifTxResponse;
import io.backplane.ring.RingOverflowException;
import io.backplane.ring.layout.NetifConstants;
import io.backplane.ring.layout.NetifTxRequestDescriptor;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The TX half of one queue (Linux xen-netback/netback.c, xenvif_tx_build_gops and friends):
 * copies each request out of the shared ring once, validates the copy with netback's checks,
 * copies the packet data through the strategy's {@link SegmentIo} (or, when the strategy lends the
 * guest's pages, copies only the headers and gathers the rest from them), hands whole frames to the
 * sink behind a {@code virtio_net_hdr} carrying the packet's checksum offload and GSO (see
 * {@link VnetHeader}) and answers every slot. Runs on the queue's worker thread only.
 */
final class TxPath {
    /** XEN_NETBK_LEGACY_SLOTS_MAX: packets using this many slots or more are dropped. */
    static final int LEGACY_SLOTS_MAX = NetifConstants.XEN_NETIF_NR_SLOTS_MIN;
    private static final int PAGE = DomainConfig.PAGE_SIZE;
    /** Packets per pass before the worker looks at RX again (netback's NAPI weight). */
    private static final int BUDGET = 64;
    /** Room for one pass of data; a pass ends early when the next 64 KiB packet might not fit. */
    static final int BATCH_BYTES = 1 << 20;
    private static final int MAX_PACKET = NetifConstants.XEN_NETIF_MAX_TX_SIZE + 1;
    /** The spill buffer's size: a virtio header and the largest packet. */
    static final int SPILL_BYTES = VnetHeader.SIZE + MAX_PACKET;
    /**
     * Bytes of a lent frame copied behind its virtio header (netback's XEN_NETBACK_TX_COPY_LEN is
     * 128; room here for VLAN, IPv6 and a TCP header with options): the offload setup reads and
     * patches this stable copy, never the guest's page.
     */
    private static final int HEAD = 256;

    private BackRing ring;
    private SegmentIo io;
    private final PacketSink sink;
    private final QueueStats stats;
    private final int fatalSkbSlots;
    private final Runnable notifyFrontend;
    private final Credit credit;
    private boolean creditBlocked;

    private final NetifTxRequest first = new NetifTxRequest();
    private final NetifTxRequest txp = new NetifTxRequest();
    private final NetifExtraInfo extra = new NetifExtraInfo();
    private final NetifTxResponse rsp = new NetifTxResponse();
    private final ByteBuffer batch;
    /** The slots of the fragments of the current packet, copied out of the ring once. */
    private final int[] fragRef = new int[LEGACY_SLOTS_MAX];
    private final int[] fragOffset = new int[LEGACY_SLOTS_MAX];
    private final int[] fragSize = new int[LEGACY_SLOTS_MAX];
    private final int[] fragId = new int[LEGACY_SLOTS_MAX];
    /** Responses of this pass, one per consumed slot, in slot order. */
    private final int[] rspId;
    private final int[] rspStatus;
    private int responses;
    /** Packets of this pass: where their frame lies in {@link #batch}, and their first response. */
    private final int[] pktOffset = new int[BUDGET];
    private final int[] pktLength = new int[BUDGET];
    private final int[] pktFirstRsp = new int[BUDGET];
    private final int[] pktExtras = new int[BUDGET];
    private final int[] pktEndRsp = new int[BUDGET];
    /** The packet's NETTXF_ flags and its GSO extra (XEN_NETIF_GSO_TYPE_NONE without one). */
    private final int[] pktFlags = new int[BUDGET];
    private final int[] pktGsoType = new int[BUDGET];
    private final int[] pktGsoSize = new int[BUDGET];
    private int gsoType;
    private int gsoSize;
    private final VnetHeader vnet = new VnetHeader();
    private int packets;
    /** The pass's data copies, done as one batch (one GNTTABOP_copy for grant copy), and whose packet each is. */
    private final List<SegmentCopy> copies = new ArrayList<>();
    private final int[] copyPacket = new int[BUDGET * (LEGACY_SLOTS_MAX + 1)];
    private final int[] copyStatus = new int[BUDGET * (LEGACY_SLOTS_MAX + 1)];
    /**
     * Zero copy: the guest pages a strategy lent for the pass's packets ({@link SegmentIo#direct}),
     * valid until {@code io.flush()}; per packet its first part, part count (0: copied as usual)
     * and the bytes of its head copied into {@link #batch}.
     */
    private final ByteBuffer[] lent = new ByteBuffer[BUDGET * (LEGACY_SLOTS_MAX + 1)];
    private int lentCount;
    private final int[] pktFirstPart = new int[BUDGET];
    private final int[] pktParts = new int[BUDGET];
    private final int[] pktHead = new int[BUDGET];
    private final ByteBuffer[] gathered = new ByteBuffer[LEGACY_SLOTS_MAX + 2];
    /** A lent frame whose headers do not fit in {@link #HEAD}, copied whole for the offload setup. */
    private final ByteBuffer spill;

    /**
     * @param batch {@link #BATCH_BYTES} for a pass's data, little-endian
     * @param spill {@link #SPILL_BYTES} for a lent frame copied whole, little-endian
     */
    TxPath(BackRing ring, SegmentIo io, PacketSink sink, QueueStats stats, int fatalSkbSlots, Credit credit,
           Runnable notifyFrontend, ByteBuffer batch, ByteBuffer spill) {
        this.ring = ring;
        this.batch = batch;
        this.spill = spill;
        this.credit = credit;
        this.notifyFrontend = notifyFrontend;
        this.io = io;
        this.sink = sink;
        this.stats = stats;
        this.fatalSkbSlots = fatalSkbSlots;
        this.rspId = new int[ring.size()];
        this.rspStatus = new int[ring.size()];
    }

    /**
     * One pass: up to {@link #BUDGET} packets. Returns true when it consumed requests.
     * Throws FrontendFault when the frontend must be disabled; nothing of the pass is answered then.
     */
    boolean poll() {
        int workToDo = available();
        if (workToDo == 0) {
            return false;
        }
        responses = 0;
        packets = 0;
        creditBlocked = false;
        copies.clear();
        batch.clear();
        lentCount = 0;
        while (workToDo > 0 && packets < BUDGET && batch.remaining() >= VnetHeader.SIZE + MAX_PACKET) {
            // Credit scheduling looks at the next packet's size before taking it off the ring; the
            // size read here only decides when, the request is copied and checked as usual.
            if (!credit.take(peekSize())) {
                creditBlocked = true;
                break;
            }
            workToDo = buildPacket(workToDo);
            if (workToDo == 0) {
                workToDo = available();
            }
        }
        // One batch for the pass's data, as netback gathers its grant copy ops; a refused
        // segment fails its packet only.
        if (!copies.isEmpty()) {
            io.copy(copies, copyStatus);
            for (int i = 0; i < copies.size(); i++) {
                if (copyStatus[i] != 0) {
                    int p = copyPacket[i];
                    markError(pktFirstRsp[p], pktExtras[p], pktEndRsp[p]);
                }
            }
            copies.clear();
        }
        for (int p = 0; p < packets; p++) {
            if (rspStatus[pktFirstRsp[p]] != NETIF_RSP_OKAY) {
                stats.txErrors.incrementAndGet();
            } else if (pktParts[p] > 0 ? !transmitLent(p)
                    : !vnet.fromTx(batch, pktOffset[p], pktLength[p], pktFlags[p], pktGsoType[p], pktGsoSize[p])) {
                // Answered OKAY already, as netback does; the packet is dropped like an skb
                // whose checksum_setup() failed.
                stats.txOffloadDropped.incrementAndGet();
            } else {
                if (pktParts[p] == 0) {
                    sink.transmit(batch.duplicate().limit(pktOffset[p] + VnetHeader.SIZE + pktLength[p]).position(pktOffset[p]));
                }
                stats.txPackets.incrementAndGet();
                stats.txBytes.addAndGet(pktLength[p]);
                if ((pktFlags[p] & NetifConstants.NETTXF_CSUM_BLANK) != 0) {
                    stats.txCsumBlank.incrementAndGet();
                }
                if (pktGsoType[p] != NetifConstants.XEN_NETIF_GSO_TYPE_NONE) {
                    stats.txGso.incrementAndGet();
                }
            }
        }
        io.flush();                            // after the sink: it ends the lent pages' loan
        if (responses == 0) {
            return false;                      // waiting for credit
        }
        respond();
        return true;
    }

    private int peekSize() {
        return ring.peekRequestU16(NetifTxRequestDescriptor.SIZE_OFFSET);
    }

    /** Ends the strategy's batch between passes (the worker's idle tick); nothing is lent then. */
    void flush() {
        io.flush();
    }

    /** True when the last pass stopped because the next packet had to wait for credit. */
    boolean creditBlocked() {
        return creditBlocked;
    }

    /** How long until the credit scheduler lets more through. */
    long creditWaitNanos() {
        return credit.waitNanos();
    }

    Credit credit() {
        return credit;
    }

    /** Hot swap: carries on over another mapping of the same ring; on the worker, at a batch boundary. */
    void rebind(BackRing ring, SegmentIo io) {
        this.ring = ring;
        this.io = io;
    }

    /** RING_FINAL_CHECK_FOR_REQUESTS before the worker sleeps. */
    boolean finalCheck() {
        try {
            return ring.finalCheckForRequests();
        } catch (RingOverflowException e) {
            throw new FrontendFault(e.getMessage());
        }
    }

    private int available() {
        try {
            return ring.unconsumedRequests();
        } catch (RingOverflowException e) {
            // "Impossible number of requests": req_prod ran more than a ring ahead.
            throw new FrontendFault(e.getMessage());
        }
    }

    /** Consumes one packet (first slot, extras, fragments); returns the work left. */
    private int buildPacket(int workToDo) {
        ring.copyRequest(first);
        workToDo--;
        int firstRsp = responses;
        addResponse(first.id, NETIF_RSP_OKAY);
        int extras = 0;
        gsoType = NetifConstants.XEN_NETIF_GSO_TYPE_NONE;
        gsoSize = 0;
        if ((first.flags & NETTXF_EXTRA_INFO) != 0) {
            extras = getExtras(workToDo);
            workToDo -= extras;
        }
        int remaining = first.size;
        int slots = 0;
        String dropReason = null;
        boolean more = (first.flags & NETTXF_MORE_DATA) != 0;
        // xenvif_count_requests()
        while (more) {
            if (slots >= workToDo) {
                throw new FrontendFault("Asked for " + slots + " slots but exceeds this limit");
            }
            if (slots >= fatalSkbSlots) {
                throw new FrontendFault("Malicious frontend using " + slots + " slots, threshold " + fatalSkbSlots);
            }
            if (dropReason == null && slots >= LEGACY_SLOTS_MAX) {
                dropReason = "Too many slots (" + slots + ") exceeding limit (" + LEGACY_SLOTS_MAX + "), dropping packet";
            }
            ring.copyRequest(txp);
            if (dropReason == null && txp.size > remaining) {
                dropReason = "Invalid tx request, slot size " + txp.size + " > remaining size " + remaining;
            }
            remaining -= txp.size;
            if (dropReason == null) {
                fragRef[slots] = txp.gref;
                fragOffset[slots] = txp.offset;
                fragSize[slots] = txp.size;
                fragId[slots] = txp.id;
            }
            addResponse(txp.id, NETIF_RSP_OKAY);
            slots++;
            if (txp.offset + txp.size > PAGE) {
                throw new FrontendFault("Cross page boundary, txp->offset: " + txp.offset + ", size: " + txp.size);
            }
            more = (txp.flags & NETTXF_MORE_DATA) != 0;
        }
        workToDo -= slots;
        if (dropReason == null && remaining < FrameHeaders.ETH_HLEN) {
            dropReason = "Bad packet size: " + remaining;
        }
        if (dropReason == null && first.offset + remaining > PAGE) {
            throw new FrontendFault("Cross page boundary, txreq.offset: " + first.offset + ", size: " + remaining);
        }
        int p = packets++;
        pktFirstRsp[p] = firstRsp;
        pktExtras[p] = extras;
        pktOffset[p] = batch.position();
        pktLength[p] = first.size;
        pktEndRsp[p] = responses;
        pktFlags[p] = first.flags;
        pktGsoType[p] = gsoType;
        pktGsoSize[p] = gsoSize;
        pktParts[p] = 0;
        if (dropReason != null) {
            markError(firstRsp, extras, responses);
            return workToDo;
        }
        if (lend(p, remaining, slots)) {
            batch.position(pktOffset[p] + VnetHeader.SIZE + pktHead[p]);
            return workToDo;
        }
        // The sink's virtio_net_hdr goes in front (filled once the data is here), then the
        // frame; the first slot holds what the fragments do not: first.size minus their sizes.
        int pos = batch.position() + VnetHeader.SIZE;
        addCopy(p, first.gref, first.offset, pos, remaining);
        pos += remaining;
        for (int i = 0; i < slots; i++) {
            addCopy(p, fragRef[i], fragOffset[i], pos, fragSize[i]);
            pos += fragSize[i];
        }
        batch.position(pktOffset[p] + VnetHeader.SIZE + first.size);
        return workToDo;
    }

    /**
     * Zero copy, when the strategy lends every page of the packet ({@link SegmentIo#direct}): the
     * frame's first {@link #HEAD} bytes are copied behind the virtio header (what Linux netback
     * copies into the skb's linear area) and the rest stays in the guest's pages until the sink
     * has it. False, nothing kept, when a page is not lent: the packet is grant-copied as usual.
     */
    private boolean lend(int p, int firstBytes, int slots) {
        int from = lentCount;
        if (!lendOne(first.gref, first.offset, firstBytes)) {
            lentCount = from;
            return false;
        }
        for (int i = 0; i < slots; i++) {
            if (!lendOne(fragRef[i], fragOffset[i], fragSize[i])) {
                lentCount = from;
                return false;
            }
        }
        int head = Math.min(HEAD, first.size);
        int at = pktOffset[p] + VnetHeader.SIZE;
        for (int i = from, need = head; i < lentCount && need > 0; i++) {
            ByteBuffer page = lent[i];
            int n = Math.min(need, page.remaining());
            batch.put(at, page, page.position(), n);
            page.position(page.position() + n);
            at += n;
            need -= n;
        }
        pktFirstPart[p] = from;
        pktParts[p] = lentCount - from;
        pktHead[p] = head;
        return true;
    }

    private boolean lendOne(int gref, int offset, int length) {
        if (length == 0) {
            return true;
        }
        ByteBuffer page = io.direct(gref, offset, length, false);
        if (page == null) {
            return false;
        }
        lent[lentCount++] = page;
        return true;
    }

    /**
     * A lent packet to the sink in one gathering call: header and head from the batch, the rest
     * from the guest's pages. False when its checksum or GSO cannot be set up.
     */
    private boolean transmitLent(int p) {
        int first = pktFirstPart[p];
        int parts = pktParts[p];
        if (!vnet.fromTx(batch, pktOffset[p], pktHead[p], pktFlags[p], pktGsoType[p], pktGsoSize[p])) {
            if (pktHead[p] == pktLength[p]) {
                return false;
            }
            // Headers longer than the head: the whole frame copied, then set up as usual.
            spill.clear();
            spill.put(0, batch, pktOffset[p], VnetHeader.SIZE + pktHead[p]);
            int at = VnetHeader.SIZE + pktHead[p];
            for (int i = first; i < first + parts; i++) {
                spill.put(at, lent[i], lent[i].position(), lent[i].remaining());
                at += lent[i].remaining();
            }
            if (!vnet.fromTx(spill, 0, pktLength[p], pktFlags[p], pktGsoType[p], pktGsoSize[p])) {
                return false;
            }
            sink.transmit(spill.limit(at));
            return true;
        }
        gathered[0] = batch.duplicate().limit(pktOffset[p] + VnetHeader.SIZE + pktHead[p]).position(pktOffset[p]);
        int n = 1;
        for (int i = first; i < first + parts; i++) {
            if (lent[i].hasRemaining()) {
                gathered[n++] = lent[i];
            }
        }
        sink.transmit(gathered, 0, n);
        stats.txZeroCopy.incrementAndGet();
        return true;
    }

    private void addCopy(int packet, int gref, int offset, int at, int length) {
        if (length > 0) {
            copyPacket[copies.size()] = packet;
            copies.add(SegmentCopy.fromGuest(gref, offset, batch, at, length));
        }
    }

    /** xenvif_get_extras(): each extra takes a slot, answered with NETIF_RSP_NULL. */
    private int getExtras(int workToDo) {
        int count = 0;
        do {
            if (workToDo-- <= 0) {
                throw new FrontendFault("Missing extra info");
            }
            ring.copyRequest(extra);
            count++;
            addResponse(first.id, NETIF_RSP_NULL);
            if (extra.type == 0 || extra.type >= NetifConstants.XEN_NETIF_EXTRA_TYPE_MAX) {
                throw new FrontendFault("Invalid extra type: " + extra.type);
            }
            if (extra.type == NetifConstants.XEN_NETIF_EXTRA_TYPE_GSO) {
                // xenvif_set_skb_gso()
                if (extra.gsoSize() == 0) {
                    throw new FrontendFault("GSO size must not be zero.");
                }
                int type = extra.gsoType();
                if (type != NetifConstants.XEN_NETIF_GSO_TYPE_TCPV4 && type != NetifConstants.XEN_NETIF_GSO_TYPE_TCPV6) {
                    throw new FrontendFault("Bad GSO type " + type + ".");
                }
                gsoType = type;
                gsoSize = extra.gsoSize();
            }
        } while ((extra.flags & NetifConstants.XEN_NETIF_EXTRA_FLAG_MORE) != 0);
        return count;
    }

    private void addResponse(int id, int status) {
        rspId[responses] = id;
        rspStatus[responses] = status;
        responses++;
    }

    /** xenvif_tx_err(): the packet's data slots are answered NETIF_RSP_ERROR, extras stay NULL. */
    private void markError(int firstRsp, int extras, int endRsp) {
        for (int i = firstRsp; i < endRsp; i++) {
            if (i == firstRsp || i > firstRsp + extras) {
                rspStatus[i] = NETIF_RSP_ERROR;
            }
        }
    }

    private void respond() {
        for (int i = 0; i < responses; i++) {
            rsp.id = rspId[i];
            rsp.status = rspStatus[i];
            ring.putResponse(rsp);
        }
        if (ring.pushResponsesAndCheckNotify()) {
            notifyFrontend.run();
        }
    }
}
