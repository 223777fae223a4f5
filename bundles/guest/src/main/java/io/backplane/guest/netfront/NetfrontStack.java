package io.backplane.guest.netfront;

import static io.backplane.ring.layout.NetifConstants.NETRXF_CSUM_BLANK;
import static io.backplane.ring.layout.NetifConstants.NETRXF_DATA_VALIDATED;
import static io.backplane.ring.layout.NetifConstants.XEN_NETIF_GSO_TYPE_NONE;
import static io.backplane.ring.layout.NetifConstants.XEN_NETIF_GSO_TYPE_TCPV4;
import static io.backplane.ring.layout.NetifConstants.XEN_NETIF_GSO_TYPE_TCPV6;

/**
 * What the guest does with a received frame: verifies test frames, checks UDP and TCP frames
 * (offload flags and GSO metadata as Linux's handle_incoming_queue and checksum_setup take them,
 * then IP and L4 checksums and the payload pattern), answers ARP requests and ICMP echo requests
 * for its address (on the queue the request came in on).
 */
final class NetfrontStack {
    private final byte[] mac;
    private final byte[] ip;
    private final RxFeatures advertised;
    private final TestFrameLedger ledger = new TestFrameLedger();

    /** What the frontend wrote for its receive side (talk_to_netback). */
    record RxFeatures(boolean sg, boolean gsoTcpv4, boolean gsoTcpv6, boolean csum, boolean ipv6Csum) {
        static RxFeatures of(NetfrontOptions o) {
            return new RxFeatures(o.rxSg(), o.rxGso(), o.rxGso(), o.rxCsum(), o.rxCsum() && o.rxCsum6());
        }
    }

    NetfrontStack(byte[] mac, byte[] ip) {
        this(mac, ip, new RxFeatures(true, true, true, true, true));
    }

    NetfrontStack(byte[] mac, byte[] ip, RxFeatures advertised) {
        this.mac = mac;
        this.ip = ip;
        this.advertised = advertised;
    }

    RxFeatures advertised() {
        return advertised;
    }

    /**
     * A frame assembled from {@code slots} responses, with the first response's NETRXF flags and
     * the GSO extra's type and size (type 0: none).
     */
    void received(NetfrontQueue queue, byte[] frame, int len, int flags, int slots, int gsoType, int gsoSize) {
        QueueCounters c = queue.counters;
        boolean csumBlank = (flags & NETRXF_CSUM_BLANK) != 0;
        if (csumBlank) {
            c.rxCsumBlank.incrementAndGet();
        }
        if ((flags & NETRXF_DATA_VALIDATED) != 0) {
            c.rxDataValidated.incrementAndGet();
        }
        if (gsoType != XEN_NETIF_GSO_TYPE_NONE) {
            c.rxGso.incrementAndGet();
        }
        if (slots > 1 && !advertised.sg()) {
            c.rxUnaskedOffload.incrementAndGet();
        }
        Checksums.L4 h = queue.rxHeaders;
        if (!h.parse(frame, len)) {
            if (csumBlank || gsoType != XEN_NETIF_GSO_TYPE_NONE) {
                c.rxBad.incrementAndGet();             // offload metadata on a frame that has no L4 to offload
                return;
            }
            received(queue, frame, len);
            return;
        }
        c.rxL4.incrementAndGet();
        boolean v6 = h.version == 6;
        if (csumBlank && !(v6 ? advertised.ipv6Csum() : advertised.csum())) {
            c.rxUnaskedOffload.incrementAndGet();
        }
        if (gsoType != XEN_NETIF_GSO_TYPE_NONE) {
            // xennet_set_skb_gso(): size 0 or an unknown type is dropped.
            boolean ok = gsoSize > 0 && h.proto == Checksums.PROTO_TCP
                    && gsoType == (v6 ? XEN_NETIF_GSO_TYPE_TCPV6 : XEN_NETIF_GSO_TYPE_TCPV4);
            if (!ok) {
                c.rxBad.incrementAndGet();
                return;
            }
            if (!(v6 ? advertised.gsoTcpv6() : advertised.gsoTcpv4())) {
                c.rxUnaskedOffload.incrementAndGet();
            }
            if (!csumBlank) {
                // checksum_setup(): a GSO skb must be CHECKSUM_PARTIAL; a peer that did not say so
                // gets its partial checksum recalculated (rx_gso_checksum_fixup).
                c.rxGsoCsumFixup.incrementAndGet();
                Checksums.putPartial(frame, h.ip, h.proto, h.l4, h.l4Len);
                csumBlank = true;
            }
        }
        if (csumBlank) {
            Checksums.complete(frame, h.proto, h.l4, h.l4Len);
        }
        if (v6 ? !Checksums.l4Valid(frame, h.ip, h.proto, h.l4, h.l4Len)
                : !Checksums.ipv4HeaderValid(frame, h.ip) || !Checksums.l4Valid(frame, h.ip, h.proto, h.l4, h.l4Len)) {
            c.rxCsumBad.incrementAndGet();
            return;
        }
        (!L4Traffic.ours(frame, h) || L4Traffic.payloadValid(frame, h) ? c.rxVerified : c.rxBad).incrementAndGet();
    }

    byte[] mac() {
        return mac.clone();
    }

    void received(NetfrontQueue queue, byte[] frame, int len) {
        QueueCounters c = queue.counters;
        if (Frames.isTestFrame(frame, len)) {
            if (Frames.verifyTestFrame(frame, len)) {
                c.rxVerified.incrementAndGet();
                ledger.saw(c, Frames.testFrameSender(frame), Frames.testFrameSeq(frame));
            } else {
                c.rxBad.incrementAndGet();
            }
            return;
        }
        if (ip == null) {
            return;
        }
        byte[] reply = Frames.arpReply(frame, len, mac, ip);
        if (reply != null) {
            c.arpReplies.incrementAndGet();
            queue.enqueue(reply);
            return;
        }
        reply = Frames.icmpEchoReply(frame, len, ip);
        if (reply != null) {
            c.icmpReplies.incrementAndGet();
            queue.enqueue(reply);
        }
    }
}
