/*
 * Prints the offset and size of every field of the Xen wire structures Backplane's layout
 * descriptors describe, and the ring sizes for 1..16 pages, as "name value" lines.
 * Built against /usr/include/xen by LayoutDescriptorTest, which compares every line.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/io/ring.h>
#include <xen/io/netif.h>
#include <xen/io/blkif.h>
#include <xen/io/protocols.h>
#include <xen/io/xenbus.h>
#include <linux/virtio_net.h>
#include "backplane/ring_layouts.h"

#define P(name, value) printf("%s %ld\n", name, (long)(value))
#define OFF(type, field) P(#type "." #field, offsetof(struct type, field))
#define SIZE(type) P("sizeof." #type, sizeof(struct type))
#define C(name) P(#name, name)


#define RING_SIZES(tag)                                                       \
    do {                                                                      \
        int n;                                                                \
        for (n = 1; n <= 16; n++) {                                           \
            char key[64];                                                     \
            snprintf(key, sizeof key, "ring." #tag ".%d", n);                  \
            P(key, __CONST_RING_SIZE(tag, n * 4096));                         \
        }                                                                     \
        P("sizeof.entry." #tag, sizeof(union tag##_sring_entry));             \
    } while (0)

/* "layout.<flags>.<tag>.<pages> nr_ents bytes req_prod req_event rsp_prod rsp_event req_slots
 * req_stride rsp_slots rsp_stride" for every combination of the three features. */
#define BP_LAYOUTS(tag, align)                                                \
    do {                                                                      \
        unsigned int f, pages;                                                \
        for (f = 0; f < 8; f++) {                                             \
            for (pages = 1; pages <= 16; pages *= 2) {                        \
                struct bp_ring_layout l;                                      \
                if (bp_ring_layout_init(&l, f, pages, sizeof(struct tag##_request), \
                                        sizeof(struct tag##_response), align)) \
                    printf("layout.%u." #tag ".%u none\n", f, pages);         \
                else                                                          \
                    printf("layout.%u." #tag ".%u %u %u %u %u %u %u %u %u %u %u\n", \
                           f, pages, l.nr_ents, l.bytes, l.req_prod,          \
                           l.req_event, l.rsp_prod, l.rsp_event, l.req_slots, \
                           l.req_stride, l.rsp_slots, l.rsp_stride);          \
            }                                                                 \
        }                                                                     \
    } while (0)

int main(void)
{
    /* backplane/ring_layouts.h */
    OFF(bp_split_sring_hdr, req_prod);
    OFF(bp_split_sring_hdr, req_event);
    OFF(bp_split_sring_hdr, rsp_prod);
    OFF(bp_split_sring_hdr, rsp_event);
    SIZE(bp_split_sring_hdr);
    OFF(bp_sep_sring_hdr, prod);
    OFF(bp_sep_sring_hdr, event);
    SIZE(bp_sep_sring_hdr);
    OFF(bp_sep_split_sring_hdr, prod);
    OFF(bp_sep_split_sring_hdr, event);
    SIZE(bp_sep_split_sring_hdr);
    C(BP_CACHE_LINE);
    C(BP_NETIF_SLOT_ALIGN);
    C(BP_BLKIF_SLOT_ALIGN);
    printf("BP_FEATURE_SPLIT_INDEXES %s\n", BP_FEATURE_SPLIT_INDEXES);
    printf("BP_FEATURE_ALIGNED_SLOTS %s\n", BP_FEATURE_ALIGNED_SLOTS);
    printf("BP_FEATURE_SEPARATE_RINGS %s\n", BP_FEATURE_SEPARATE_RINGS);
    printf("BP_RSP_RING_REF %s\n", BP_RSP_RING_REF);
    C(BP_RING_SPLIT_INDEXES);
    C(BP_RING_ALIGNED_SLOTS);
    C(BP_RING_SEPARATE);
    BP_LAYOUTS(netif_tx, BP_NETIF_SLOT_ALIGN);
    BP_LAYOUTS(netif_rx, BP_NETIF_SLOT_ALIGN);
    BP_LAYOUTS(blkif, BP_BLKIF_SLOT_ALIGN);

    /* ring.h: struct <name>_sring */
    OFF(netif_tx_sring, req_prod);
    OFF(netif_tx_sring, req_event);
    OFF(netif_tx_sring, rsp_prod);
    OFF(netif_tx_sring, rsp_event);
    OFF(netif_tx_sring, pvt);
    P("netif_tx_sring.pvt.size", sizeof(((struct netif_tx_sring *)0)->pvt));
    OFF(netif_tx_sring, __pad);
    P("netif_tx_sring.__pad.size", sizeof(((struct netif_tx_sring *)0)->__pad));
    OFF(netif_tx_sring, ring);
    OFF(blkif_sring, ring);
    OFF(netif_rx_sring, ring);
    RING_SIZES(netif_tx);
    RING_SIZES(netif_rx);
    RING_SIZES(blkif);

    /* netif.h */
    OFF(netif_tx_request, gref);
    OFF(netif_tx_request, offset);
    OFF(netif_tx_request, flags);
    OFF(netif_tx_request, id);
    OFF(netif_tx_request, size);
    SIZE(netif_tx_request);
    OFF(netif_tx_response, id);
    OFF(netif_tx_response, status);
    SIZE(netif_tx_response);
    OFF(netif_rx_request, id);
    OFF(netif_rx_request, pad);
    OFF(netif_rx_request, gref);
    SIZE(netif_rx_request);
    OFF(netif_rx_response, id);
    OFF(netif_rx_response, offset);
    OFF(netif_rx_response, flags);
    OFF(netif_rx_response, status);
    SIZE(netif_rx_response);
    /* linux/virtio_net.h: the TAP's offload header (IFF_VNET_HDR) */
    OFF(virtio_net_hdr, flags);
    OFF(virtio_net_hdr, gso_type);
    OFF(virtio_net_hdr, hdr_len);
    OFF(virtio_net_hdr, gso_size);
    OFF(virtio_net_hdr, csum_start);
    OFF(virtio_net_hdr, csum_offset);
    SIZE(virtio_net_hdr);
    C(VIRTIO_NET_HDR_F_NEEDS_CSUM);
    C(VIRTIO_NET_HDR_F_DATA_VALID);
    C(VIRTIO_NET_HDR_GSO_NONE);
    C(VIRTIO_NET_HDR_GSO_TCPV4);
    C(VIRTIO_NET_HDR_GSO_UDP);
    C(VIRTIO_NET_HDR_GSO_TCPV6);
    C(VIRTIO_NET_HDR_GSO_ECN);

    OFF(netif_extra_info, type);
    OFF(netif_extra_info, flags);
    OFF(netif_extra_info, u);
    P("netif_extra_info.u.size", sizeof(((struct netif_extra_info *)0)->u));
    OFF(netif_extra_info, u.gso.size);
    OFF(netif_extra_info, u.gso.type);
    OFF(netif_extra_info, u.gso.pad);
    OFF(netif_extra_info, u.gso.features);
    OFF(netif_extra_info, u.mcast.addr);
    P("netif_extra_info.u.mcast.addr.size", sizeof(((struct netif_extra_info *)0)->u.mcast.addr));
    OFF(netif_extra_info, u.hash.type);
    OFF(netif_extra_info, u.hash.algorithm);
    OFF(netif_extra_info, u.hash.value);
    P("netif_extra_info.u.hash.value.size", sizeof(((struct netif_extra_info *)0)->u.hash.value));
    SIZE(netif_extra_info);
    C(XEN_NETIF_NR_SLOTS_MIN);
    C(XEN_NETIF_MAX_TX_SIZE);
    C(NETTXF_csum_blank);
    C(NETTXF_data_validated);
    C(NETTXF_more_data);
    C(NETTXF_extra_info);
    C(NETRXF_data_validated);
    C(NETRXF_csum_blank);
    C(NETRXF_more_data);
    C(NETRXF_extra_info);
    C(NETRXF_gso_prefix);
    C(XEN_NETIF_EXTRA_TYPE_NONE);
    C(XEN_NETIF_EXTRA_TYPE_GSO);
    C(XEN_NETIF_EXTRA_TYPE_MCAST_ADD);
    C(XEN_NETIF_EXTRA_TYPE_MCAST_DEL);
    C(XEN_NETIF_EXTRA_TYPE_HASH);
    C(XEN_NETIF_EXTRA_TYPE_MAX);
    C(XEN_NETIF_EXTRA_FLAG_MORE);
    C(XEN_NETIF_GSO_TYPE_NONE);
    C(XEN_NETIF_GSO_TYPE_TCPV4);
    C(XEN_NETIF_GSO_TYPE_TCPV6);
    C(NETIF_RSP_DROPPED);
    C(NETIF_RSP_ERROR);
    C(NETIF_RSP_OKAY);
    C(NETIF_RSP_NULL);

    /* blkif.h */
    OFF(blkif_request, operation);
    OFF(blkif_request, nr_segments);
    OFF(blkif_request, handle);
    OFF(blkif_request, id);
    OFF(blkif_request, sector_number);
    OFF(blkif_request, seg);
    SIZE(blkif_request);
    OFF(blkif_request_segment, gref);
    OFF(blkif_request_segment, first_sect);
    OFF(blkif_request_segment, last_sect);
    SIZE(blkif_request_segment);
    OFF(blkif_request_discard, operation);
    OFF(blkif_request_discard, flag);
    OFF(blkif_request_discard, handle);
    OFF(blkif_request_discard, id);
    OFF(blkif_request_discard, sector_number);
    OFF(blkif_request_discard, nr_sectors);
    SIZE(blkif_request_discard);
    OFF(blkif_request_indirect, operation);
    OFF(blkif_request_indirect, indirect_op);
    OFF(blkif_request_indirect, nr_segments);
    OFF(blkif_request_indirect, id);
    OFF(blkif_request_indirect, sector_number);
    OFF(blkif_request_indirect, handle);
    OFF(blkif_request_indirect, indirect_grefs);
    SIZE(blkif_request_indirect);
    OFF(blkif_response, id);
    OFF(blkif_response, operation);
    OFF(blkif_response, status);
    SIZE(blkif_response);
    printf("XEN_IO_PROTO_ABI_X86_64 %s\n", XEN_IO_PROTO_ABI_X86_64);
    C(BLKIF_OP_READ);
    C(BLKIF_OP_WRITE);
    C(BLKIF_OP_WRITE_BARRIER);
    C(BLKIF_OP_FLUSH_DISKCACHE);
    C(BLKIF_OP_RESERVED_1);
    C(BLKIF_OP_DISCARD);
    C(BLKIF_OP_INDIRECT);
    C(BLKIF_RSP_EOPNOTSUPP);
    C(BLKIF_RSP_ERROR);
    C(BLKIF_RSP_OKAY);
    C(BLKIF_MAX_SEGMENTS_PER_REQUEST);
    C(BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST);
    P("SEGS_PER_INDIRECT_FRAME", 4096 / sizeof(struct blkif_request_segment));
    C(BLKIF_DISCARD_SECURE);
    C(VDISK_CDROM);
    C(VDISK_REMOVABLE);
    C(VDISK_READONLY);

    /* grant_table.h */
    OFF(grant_entry_v1, flags);
    OFF(grant_entry_v1, domid);
    OFF(grant_entry_v1, frame);
    SIZE(grant_entry_v1);
    C(GNTTAB_NR_RESERVED_ENTRIES);
    C(GNTTAB_RESERVED_CONSOLE);
    C(GNTTAB_RESERVED_XENSTORE);
    C(GTF_invalid);
    C(GTF_permit_access);
    C(GTF_accept_transfer);
    C(GTF_transitive);
    C(GTF_type_mask);
    C(GTF_readonly);
    C(GTF_reading);
    C(GTF_writing);
    C(GTF_PWT);
    C(GTF_PCD);
    C(GTF_PAT);
    C(GTF_sub_page);
    C(GTF_transfer_committed);
    C(GTF_transfer_completed);
    C(GNTST_okay);
    C(GNTST_general_error);
    C(GNTST_bad_domain);
    C(GNTST_bad_gntref);
    C(GNTST_bad_handle);
    C(GNTST_bad_virt_addr);
    C(GNTST_bad_dev_addr);
    C(GNTST_no_device_space);
    C(GNTST_permission_denied);
    C(GNTST_bad_page);
    C(GNTST_bad_copy_arg);
    C(GNTST_address_too_big);
    C(GNTST_eagain);
    C(GNTST_no_space);
    {
        static const char *msgs[] = GNTTABOP_error_msgs;
        size_t i;
        for (i = 0; i < sizeof msgs / sizeof msgs[0]; i++)
            printf("GNTTABOP_error_msgs.%zu %s\n", i, msgs[i]);
    }

    /* xenbus.h */
    C(XenbusStateUnknown);
    C(XenbusStateInitialising);
    C(XenbusStateInitWait);
    C(XenbusStateInitialised);
    C(XenbusStateConnected);
    C(XenbusStateClosing);
    C(XenbusStateClosed);
    C(XenbusStateReconfiguring);
    C(XenbusStateReconfigured);
    return 0;
}
