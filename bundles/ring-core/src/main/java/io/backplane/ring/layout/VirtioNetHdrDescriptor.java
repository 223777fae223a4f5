package io.backplane.ring.layout;

/**
 * {@code struct virtio_net_hdr} (Linux include/uapi/linux/virtio_net.h), 10 bytes, little-endian
 * on x86: the offload metadata a TAP device opened with {@code IFF_VNET_HDR} puts in front of
 * every frame it gives and expects in front of every frame it takes. netback turns netif's
 * {@code NETTXF_csum_blank}/{@code data_validated} and GSO extras into it and back, as Linux
 * netback turns them into an skb's {@code ip_summed}/{@code gso_*} fields. It is also the
 * contract of {@code io.backplane.api.sink.PacketSink}: every frame crossing a sink carries one.
 */
public final class VirtioNetHdrDescriptor {
    /** {@code __u8 flags}: VIRTIO_NET_HDR_F_*. */
    public static final int FLAGS_OFFSET = 0;
    /** {@code __u8 gso_type}: VIRTIO_NET_HDR_GSO_*. */
    public static final int GSO_TYPE_OFFSET = 1;
    /** {@code __virtio16 hdr_len}: Ethernet + IP + TCP header bytes of a GSO frame. */
    public static final int HDR_LEN_OFFSET = 2;
    /** {@code __virtio16 gso_size}: payload bytes per segment (the MSS). */
    public static final int GSO_SIZE_OFFSET = 4;
    /** {@code __virtio16 csum_start}: where checksumming starts (the L4 header). */
    public static final int CSUM_START_OFFSET = 6;
    /** {@code __virtio16 csum_offset}: where, after csum_start, the checksum goes. */
    public static final int CSUM_OFFSET_OFFSET = 8;
    public static final int LENGTH = 10;

    /** The L4 checksum is partial: complete it from csum_start, store at csum_start + csum_offset. */
    public static final int VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
    /** The checksum was verified already. */
    public static final int VIRTIO_NET_HDR_F_DATA_VALID = 2;

    public static final int VIRTIO_NET_HDR_GSO_NONE = 0;
    public static final int VIRTIO_NET_HDR_GSO_TCPV4 = 1;
    public static final int VIRTIO_NET_HDR_GSO_UDP = 3;
    public static final int VIRTIO_NET_HDR_GSO_TCPV6 = 4;
    public static final int VIRTIO_NET_HDR_GSO_ECN = 0x80;

    private VirtioNetHdrDescriptor() {
    }
}
