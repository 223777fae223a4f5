package io.backplane.netback;

import static io.backplane.ring.layout.NetifConstants.NETRXF_CSUM_BLANK;
import static io.backplane.ring.layout.NetifConstants.NETRXF_DATA_VALIDATED;
import static io.backplane.ring.layout.NetifConstants.XEN_NETIF_GSO_TYPE_NONE;
import static io.backplane.ring.layout.NetifConstants.XEN_NETIF_GSO_TYPE_TCPV4;
import static io.backplane.ring.layout.NetifConstants.XEN_NETIF_GSO_TYPE_TCPV6;
import static io.backplane.ring.layout.VirtioNetHdrDescriptor.VIRTIO_NET_HDR_F_DATA_VALID;
import static io.backplane.ring.layout.VirtioNetHdrDescriptor.VIRTIO_NET_HDR_F_NEEDS_CSUM;
import static io.backplane.ring.layout.VirtioNetHdrDescriptor.VIRTIO_NET_HDR_GSO_TCPV4;
import static io.backplane.ring.layout.VirtioNetHdrDescriptor.VIRTIO_NET_HDR_GSO_TCPV6;

import java.nio.ByteBuffer;
import java.util.function.Consumer;

/**
 * Turns a frame from the sink (a {@code virtio_net_hdr}, then the frame) into what this
 * frontend asked to receive, as Linux netback's rx.c and the stack under it do: a partial
 * checksum goes to the guest as {@code NETRXF_csum_blank | NETRXF_data_validated} when the
 * frontend takes checksum offload for that IP version (IPv4 unless it wrote
 * {@code feature-no-csum-offload}, IPv6 with {@code feature-ipv6-csum-offload}), else it is
 * completed here; a GSO frame goes whole with a GSO extra when the frontend wrote
 * {@code feature-gso-tcpv4/6} (and {@code feature-sg}), else it is cut into MSS-sized TCP
 * segments here, each with its own IP and TCP header and checksum. Runs on the sink's reader.
 */
final class RxOffload {

    /** One frame for the guest: its bytes, NETRXF_ checksum flags, and a GSO extra when gsoType is not NONE. */
    record RxFrame(byte[] data, int offset, int length, int flags, int gsoType, int gsoSize) {
    }

    /** What the frontend takes, from its xenbus keys. */
    record Accepts(boolean csum4, boolean csum6, boolean gso4, boolean gso6) {
        static Accepts of(FrontendConfig cfg) {
            // Linux netback offers TSO to the stack only with SG and checksum offload.
            return new Accepts(cfg.ipCsum(), cfg.ipv6Csum(), cfg.sg() && cfg.ipCsum() && cfg.gsoTcpv4(),
                    cfg.sg() && cfg.ipv6Csum() && cfg.gsoTcpv6());
        }

        boolean csum(int ipVersion) {
            return ipVersion == 6 ? csum6 : csum4;
        }
    }

    private final Accepts accepts;
    private final QueueStats stats;
    private final FrameHeaders headers = new FrameHeaders();

    RxOffload(Accepts accepts, QueueStats stats) {
        this.accepts = accepts;
        this.stats = stats;
    }

    /**
     * Hands {@code out} the frame(s) the guest gets for {@code raw} (header + frame, all of
     * it). A frame whose offload cannot be honoured (a GSO type netif does not have, headers
     * not TCP) is dropped and counted.
     */
    void convert(byte[] raw, Consumer<RxFrame> out) {
        if (raw.length <= VnetHeader.SIZE) {
            stats.rxDropped.incrementAndGet();
            return;
        }
        ByteBuffer b = ByteBuffer.wrap(raw);
        int frame = VnetHeader.SIZE;
        int length = raw.length - frame;
        int vflags = VnetHeader.flags(b, 0);
        if (VnetHeader.isGso(b, 0)) {
            int type = VnetHeader.gsoType(b, 0) & ~0x80;
            int mss = VnetHeader.gsoSize(b, 0);
            boolean parsed = headers.parse(b, frame, length);
            int want = headers.ipVersion == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
            if (!parsed || headers.l4Proto != FrameHeaders.IPPROTO_TCP || type != want || mss == 0) {
                stats.rxDropped.incrementAndGet();
                return;
            }
            boolean v4 = headers.ipVersion == 4;
            if (v4 ? accepts.gso4() : accepts.gso6()) {
                out.accept(new RxFrame(raw, frame, length, NETRXF_CSUM_BLANK | NETRXF_DATA_VALIDATED,
                        v4 ? XEN_NETIF_GSO_TYPE_TCPV4 : XEN_NETIF_GSO_TYPE_TCPV6, mss));
            } else {
                segment(b, frame, length, mss, out);
            }
            return;
        }
        int flags = 0;
        if ((vflags & VIRTIO_NET_HDR_F_NEEDS_CSUM) != 0) {
            int start = VnetHeader.csumStart(b, 0);
            int at = start + VnetHeader.csumOffset(b, 0);
            if (at + 2 > length) {
                stats.rxDropped.incrementAndGet();
                return;
            }
            boolean parsed = headers.parse(b, frame, length);
            if (parsed && accepts.csum(headers.ipVersion)) {
                flags = NETRXF_CSUM_BLANK | NETRXF_DATA_VALIDATED;
            } else {
                InetChecksum.complete(b, frame + start, frame + at, frame + length,
                        parsed && headers.l4Proto == FrameHeaders.IPPROTO_UDP);
                stats.rxChecksumsCompleted.incrementAndGet();
                flags = NETRXF_DATA_VALIDATED;
            }
        } else if ((vflags & VIRTIO_NET_HDR_F_DATA_VALID) != 0) {
            flags = NETRXF_DATA_VALIDATED;
        }
        out.accept(new RxFrame(raw, frame, length, flags, XEN_NETIF_GSO_TYPE_NONE, 0));
    }

    /**
     * Software TSO (Linux tcp_gso_segment + inet_gso_segment): one frame per {@code mss}
     * bytes of payload, headers copied and fixed (IPv4 total length, id and header checksum or
     * IPv6 payload length; TCP sequence number; FIN and PSH only on the last, CWR only on the
     * first), the TCP checksum left partial when the frontend takes that, else completed.
     */
    private void segment(ByteBuffer in, int frame, int length, int mss, Consumer<RxFrame> out) {
        FrameHeaders h = headers;
        int hdrLen = h.l4 + h.l4HeaderLength;
        int payload = length - hdrLen;
        boolean partial = accepts.csum(h.ipVersion);
        long seq = FrameHeaders.u32(in, frame + h.l4 + 4);
        int ipId = h.ipVersion == 4 ? FrameHeaders.u16(in, frame + h.l3 + 4) : 0;
        int tcpFlagsAt = h.l4 + 13;
        int count = Math.max(1, (payload + mss - 1) / mss);
        stats.rxSegmented.incrementAndGet();
        for (int i = 0; i < count; i++) {
            int from = i * mss;
            int chunk = Math.min(mss, payload - from);
            byte[] seg = new byte[hdrLen + Math.max(0, chunk)];
            ByteBuffer s = ByteBuffer.wrap(seg);
            in.get(frame, seg, 0, hdrLen);
            if (chunk > 0) {
                in.get(frame + hdrLen + from, seg, hdrLen, chunk);
            }
            if (h.ipVersion == 4) {
                FrameHeaders.putU16(s, h.l3 + 2, seg.length - h.l3);
                FrameHeaders.putU16(s, h.l3 + 4, ipId + i);
                InetChecksum.ipv4Header(s, h.l3);
            } else {
                FrameHeaders.putU16(s, h.l3 + 4, seg.length - h.l3 - 40);
            }
            FrameHeaders.putU32(s, h.l4 + 4, seq + from);
            int tcpFlags = seg[tcpFlagsAt] & 0xFF;
            if (i + 1 < count) {
                tcpFlags &= ~0x09;                     // FIN, PSH: last segment only
            }
            if (i > 0) {
                tcpFlags &= ~0x80;                     // CWR: first segment only
            }
            seg[tcpFlagsAt] = (byte) tcpFlags;
            int csumAt = h.l4 + FrameHeaders.TCP_CSUM_OFFSET;
            FrameHeaders.putU16(s, csumAt, InetChecksum.pseudoHeader(s, 0, h, seg.length - h.l4));
            int flags = NETRXF_CSUM_BLANK | NETRXF_DATA_VALIDATED;
            if (!partial) {
                InetChecksum.complete(s, h.l4, csumAt, seg.length, false);
                flags = NETRXF_DATA_VALIDATED;
            }
            out.accept(new RxFrame(seg, 0, seg.length, flags, XEN_NETIF_GSO_TYPE_NONE, 0));
        }
    }
}
