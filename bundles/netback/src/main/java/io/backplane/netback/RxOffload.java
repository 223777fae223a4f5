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

    /** {@link #place}: the frame goes to the guest as it is, with {@link #flags} and the GSO extra. */
    static final int AS_IS = 0;
    /** {@link #place}: the frame must be completed or segmented here first ({@link #convert}). */
    static final int CONVERT = 1;
    /** {@link #place}: the frame cannot be honoured; dropped and counted. */
    static final int DROP = 2;

    /** What {@link #place} found for an {@link #AS_IS} frame: NETRXF_ checksum flags and the GSO extra (type NONE: none). */
    int flags;
    int gsoType;
    int gsoSize;
    /** For a CONVERT: a GSO frame to segment, else a partial checksum to complete (at {@link #csumStart}, field at {@link #csumAt}). */
    private boolean segment;
    private int csumStart;
    private int csumAt;
    private boolean csumUdp;

    RxOffload(Accepts accepts, QueueStats stats) {
        this.accepts = accepts;
        this.stats = stats;
    }

    /** True when the frontend takes GSO frames whole (a GSO extra in the slot after the first). */
    boolean takesGso() {
        return accepts.gso4() || accepts.gso6();
    }

    /**
     * Decides what the frame of {@code length} bytes whose virtio header lies at {@code hdr[hdrAt]}
     * becomes for this frontend, reading its headers from {@code frame[frameAt]}, where its first
     * {@code headBytes} bytes lie (the headers, when it has them there): {@link #AS_IS} (then
     * {@link #flags}, {@link #gsoType}, {@link #gsoSize}), {@link #CONVERT}, or {@link #DROP}
     * (counted). A frame whose offload cannot be honoured (a GSO type netif does not have,
     * headers not TCP) is dropped.
     */
    int place(ByteBuffer hdr, int hdrAt, ByteBuffer frame, int frameAt, int headBytes, int length) {
        gsoType = XEN_NETIF_GSO_TYPE_NONE;
        gsoSize = 0;
        if (VnetHeader.isGso(hdr, hdrAt)) {
            int type = VnetHeader.gsoType(hdr, hdrAt) & ~0x80;
            int mss = VnetHeader.gsoSize(hdr, hdrAt);
            boolean parsed = headers.parse(frame, frameAt, headBytes);
            int want = headers.ipVersion == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
            if (!parsed || headers.l4Proto != FrameHeaders.IPPROTO_TCP || type != want || mss == 0) {
                stats.rxDropped.incrementAndGet();
                return DROP;
            }
            boolean v4 = headers.ipVersion == 4;
            gsoSize = mss;
            if (v4 ? accepts.gso4() : accepts.gso6()) {
                flags = NETRXF_CSUM_BLANK | NETRXF_DATA_VALIDATED;
                gsoType = v4 ? XEN_NETIF_GSO_TYPE_TCPV4 : XEN_NETIF_GSO_TYPE_TCPV6;
                return AS_IS;
            }
            segment = true;
            return CONVERT;
        }
        int vflags = VnetHeader.flags(hdr, hdrAt);
        if ((vflags & VIRTIO_NET_HDR_F_NEEDS_CSUM) != 0) {
            int start = VnetHeader.csumStart(hdr, hdrAt);
            int at = start + VnetHeader.csumOffset(hdr, hdrAt);
            if (at + 2 > length) {
                stats.rxDropped.incrementAndGet();
                return DROP;
            }
            boolean parsed = headers.parse(frame, frameAt, headBytes);
            if (parsed && accepts.csum(headers.ipVersion)) {
                flags = NETRXF_CSUM_BLANK | NETRXF_DATA_VALIDATED;
                return AS_IS;
            }
            segment = false;
            csumUdp = parsed && headers.l4Proto == FrameHeaders.IPPROTO_UDP;
            csumStart = start;
            csumAt = at;
            return CONVERT;
        }
        flags = (vflags & VIRTIO_NET_HDR_F_DATA_VALID) != 0 ? NETRXF_DATA_VALIDATED : 0;
        return AS_IS;
    }

    /**
     * Hands {@code out} the frame(s) the guest gets for {@code raw} (header + frame, all of
     * it), as {@link #place} decides: as it is, completed or segmented here, or none.
     */
    void convert(byte[] raw, Consumer<RxFrame> out) {
        if (raw.length <= VnetHeader.SIZE) {
            stats.rxDropped.incrementAndGet();
            return;
        }
        ByteBuffer b = ByteBuffer.wrap(raw);
        int frame = VnetHeader.SIZE;
        int length = raw.length - frame;
        switch (place(b, 0, b, frame, length, length)) {
            case AS_IS -> out.accept(new RxFrame(raw, frame, length, flags, gsoType, gsoSize));
            case CONVERT -> {
                if (segment) {
                    segment(b, frame, length, gsoSize, out);
                } else {
                    InetChecksum.complete(b, frame + csumStart, frame + csumAt, frame + length, csumUdp);
                    stats.rxChecksumsCompleted.incrementAndGet();
                    out.accept(new RxFrame(raw, frame, length, NETRXF_DATA_VALIDATED, XEN_NETIF_GSO_TYPE_NONE, 0));
                }
            }
            default -> {
                // dropped and counted by place()
            }
        }
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
