package io.backplane.ring.layout;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.backend.XenbusState;
import io.backplane.api.hypervisor.GrantStatus;
import io.backplane.ring.LegacyRingLayout;
import io.backplane.ring.RingLayout;
import io.backplane.ring.RingShape;
import io.backplane.ring.NativeTools;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Every number in the layout descriptors against what gcc says about Xen's own headers:
 * src/test/c/layout.c prints offsetof/sizeof of each field, each constant and the ring sizes
 * for 1..16 pages; this test compiles it, runs it and compares line by line, both ways.
 */
class LayoutDescriptorTest {

    @Test
    void descriptorsMatchXenHeaders() throws Exception {
        Path program = NativeTools.compile("layout", "layout.c");
        Map<String, String> fromC = new TreeMap<>();
        for (String line : NativeTools.run(program).split("\n")) {
            int space = line.indexOf(' ');
            fromC.put(line.substring(0, space), line.substring(space + 1));
        }
        Map<String, String> fromJava = new TreeMap<>(expected());

        assertThat(fromJava.keySet()).as("names printed by layout.c vs checked here")
                .containsExactlyInAnyOrderElementsOf(fromC.keySet());
        StringBuilder mismatches = new StringBuilder();
        fromC.forEach((name, c) -> {
            if (!c.equals(fromJava.get(name))) {
                mismatches.append(name).append(": Xen's header says ").append(c)
                        .append(", the descriptor says ").append(fromJava.get(name)).append('\n');
            }
        });
        assertThat(mismatches.toString()).as("descriptor values differing from Xen's headers").isEmpty();
    }

    private static Map<String, String> expected() {
        Map<String, Object> e = new LinkedHashMap<>();
        // ring.h
        e.put("netif_tx_sring.req_prod", SharedRingDescriptor.REQ_PROD_OFFSET);
        e.put("netif_tx_sring.req_event", SharedRingDescriptor.REQ_EVENT_OFFSET);
        e.put("netif_tx_sring.rsp_prod", SharedRingDescriptor.RSP_PROD_OFFSET);
        e.put("netif_tx_sring.rsp_event", SharedRingDescriptor.RSP_EVENT_OFFSET);
        e.put("netif_tx_sring.pvt", SharedRingDescriptor.PVT_OFFSET);
        e.put("netif_tx_sring.pvt.size", SharedRingDescriptor.PVT_LENGTH);
        e.put("netif_tx_sring.__pad", SharedRingDescriptor.PAD_OFFSET);
        e.put("netif_tx_sring.__pad.size", SharedRingDescriptor.PAD_LENGTH);
        e.put("netif_tx_sring.ring", SharedRingDescriptor.ENTRIES_OFFSET);
        e.put("blkif_sring.ring", SharedRingDescriptor.ENTRIES_OFFSET);
        e.put("netif_rx_sring.ring", SharedRingDescriptor.ENTRIES_OFFSET);
        ringSizes(e, "netif_tx", SharedRingDescriptor.NETIF_TX_ENTRY_LENGTH);
        ringSizes(e, "netif_rx", SharedRingDescriptor.NETIF_RX_ENTRY_LENGTH);
        ringSizes(e, "blkif", SharedRingDescriptor.BLKIF_ENTRY_LENGTH);

        // netif.h
        e.put("netif_tx_request.gref", NetifTxRequestDescriptor.GREF_OFFSET);
        e.put("netif_tx_request.offset", NetifTxRequestDescriptor.OFFSET_OFFSET);
        e.put("netif_tx_request.flags", NetifTxRequestDescriptor.FLAGS_OFFSET);
        e.put("netif_tx_request.id", NetifTxRequestDescriptor.ID_OFFSET);
        e.put("netif_tx_request.size", NetifTxRequestDescriptor.SIZE_OFFSET);
        e.put("sizeof.netif_tx_request", NetifTxRequestDescriptor.LENGTH);
        e.put("netif_tx_response.id", NetifTxResponseDescriptor.ID_OFFSET);
        e.put("netif_tx_response.status", NetifTxResponseDescriptor.STATUS_OFFSET);
        e.put("sizeof.netif_tx_response", NetifTxResponseDescriptor.LENGTH);
        e.put("netif_rx_request.id", NetifRxRequestDescriptor.ID_OFFSET);
        e.put("netif_rx_request.pad", NetifRxRequestDescriptor.PAD_OFFSET);
        e.put("netif_rx_request.gref", NetifRxRequestDescriptor.GREF_OFFSET);
        e.put("sizeof.netif_rx_request", NetifRxRequestDescriptor.LENGTH);
        e.put("netif_rx_response.id", NetifRxResponseDescriptor.ID_OFFSET);
        e.put("netif_rx_response.offset", NetifRxResponseDescriptor.OFFSET_OFFSET);
        e.put("netif_rx_response.flags", NetifRxResponseDescriptor.FLAGS_OFFSET);
        e.put("netif_rx_response.status", NetifRxResponseDescriptor.STATUS_OFFSET);
        e.put("sizeof.netif_rx_response", NetifRxResponseDescriptor.LENGTH);
        // linux/virtio_net.h
        e.put("virtio_net_hdr.flags", VirtioNetHdrDescriptor.FLAGS_OFFSET);
        e.put("virtio_net_hdr.gso_type", VirtioNetHdrDescriptor.GSO_TYPE_OFFSET);
        e.put("virtio_net_hdr.hdr_len", VirtioNetHdrDescriptor.HDR_LEN_OFFSET);
        e.put("virtio_net_hdr.gso_size", VirtioNetHdrDescriptor.GSO_SIZE_OFFSET);
        e.put("virtio_net_hdr.csum_start", VirtioNetHdrDescriptor.CSUM_START_OFFSET);
        e.put("virtio_net_hdr.csum_offset", VirtioNetHdrDescriptor.CSUM_OFFSET_OFFSET);
        e.put("sizeof.virtio_net_hdr", VirtioNetHdrDescriptor.LENGTH);
        e.put("VIRTIO_NET_HDR_F_NEEDS_CSUM", VirtioNetHdrDescriptor.VIRTIO_NET_HDR_F_NEEDS_CSUM);
        e.put("VIRTIO_NET_HDR_F_DATA_VALID", VirtioNetHdrDescriptor.VIRTIO_NET_HDR_F_DATA_VALID);
        e.put("VIRTIO_NET_HDR_GSO_NONE", VirtioNetHdrDescriptor.VIRTIO_NET_HDR_GSO_NONE);
        e.put("VIRTIO_NET_HDR_GSO_TCPV4", VirtioNetHdrDescriptor.VIRTIO_NET_HDR_GSO_TCPV4);
        e.put("VIRTIO_NET_HDR_GSO_UDP", VirtioNetHdrDescriptor.VIRTIO_NET_HDR_GSO_UDP);
        e.put("VIRTIO_NET_HDR_GSO_TCPV6", VirtioNetHdrDescriptor.VIRTIO_NET_HDR_GSO_TCPV6);
        e.put("VIRTIO_NET_HDR_GSO_ECN", VirtioNetHdrDescriptor.VIRTIO_NET_HDR_GSO_ECN);
        e.put("netif_extra_info.type", NetifExtraInfoDescriptor.TYPE_OFFSET);
        e.put("netif_extra_info.flags", NetifExtraInfoDescriptor.FLAGS_OFFSET);
        e.put("netif_extra_info.u", NetifExtraInfoDescriptor.U_OFFSET);
        e.put("netif_extra_info.u.size", NetifExtraInfoDescriptor.U_LENGTH);
        e.put("netif_extra_info.u.gso.size", NetifExtraInfoDescriptor.GSO_SIZE_OFFSET);
        e.put("netif_extra_info.u.gso.type", NetifExtraInfoDescriptor.GSO_TYPE_OFFSET);
        e.put("netif_extra_info.u.gso.pad", NetifExtraInfoDescriptor.GSO_PAD_OFFSET);
        e.put("netif_extra_info.u.gso.features", NetifExtraInfoDescriptor.GSO_FEATURES_OFFSET);
        e.put("netif_extra_info.u.mcast.addr", NetifExtraInfoDescriptor.MCAST_ADDR_OFFSET);
        e.put("netif_extra_info.u.mcast.addr.size", NetifExtraInfoDescriptor.MCAST_ADDR_LENGTH);
        e.put("netif_extra_info.u.hash.type", NetifExtraInfoDescriptor.HASH_TYPE_OFFSET);
        e.put("netif_extra_info.u.hash.algorithm", NetifExtraInfoDescriptor.HASH_ALGORITHM_OFFSET);
        e.put("netif_extra_info.u.hash.value", NetifExtraInfoDescriptor.HASH_VALUE_OFFSET);
        e.put("netif_extra_info.u.hash.value.size", NetifExtraInfoDescriptor.HASH_VALUE_LENGTH);
        e.put("sizeof.netif_extra_info", NetifExtraInfoDescriptor.LENGTH);
        e.put("XEN_NETIF_NR_SLOTS_MIN", NetifConstants.XEN_NETIF_NR_SLOTS_MIN);
        e.put("XEN_NETIF_MAX_TX_SIZE", NetifConstants.XEN_NETIF_MAX_TX_SIZE);
        e.put("NETTXF_csum_blank", NetifConstants.NETTXF_CSUM_BLANK);
        e.put("NETTXF_data_validated", NetifConstants.NETTXF_DATA_VALIDATED);
        e.put("NETTXF_more_data", NetifConstants.NETTXF_MORE_DATA);
        e.put("NETTXF_extra_info", NetifConstants.NETTXF_EXTRA_INFO);
        e.put("NETRXF_data_validated", NetifConstants.NETRXF_DATA_VALIDATED);
        e.put("NETRXF_csum_blank", NetifConstants.NETRXF_CSUM_BLANK);
        e.put("NETRXF_more_data", NetifConstants.NETRXF_MORE_DATA);
        e.put("NETRXF_extra_info", NetifConstants.NETRXF_EXTRA_INFO);
        e.put("NETRXF_gso_prefix", NetifConstants.NETRXF_GSO_PREFIX);
        e.put("XEN_NETIF_EXTRA_TYPE_NONE", NetifConstants.XEN_NETIF_EXTRA_TYPE_NONE);
        e.put("XEN_NETIF_EXTRA_TYPE_GSO", NetifConstants.XEN_NETIF_EXTRA_TYPE_GSO);
        e.put("XEN_NETIF_EXTRA_TYPE_MCAST_ADD", NetifConstants.XEN_NETIF_EXTRA_TYPE_MCAST_ADD);
        e.put("XEN_NETIF_EXTRA_TYPE_MCAST_DEL", NetifConstants.XEN_NETIF_EXTRA_TYPE_MCAST_DEL);
        e.put("XEN_NETIF_EXTRA_TYPE_HASH", NetifConstants.XEN_NETIF_EXTRA_TYPE_HASH);
        e.put("XEN_NETIF_EXTRA_TYPE_MAX", NetifConstants.XEN_NETIF_EXTRA_TYPE_MAX);
        e.put("XEN_NETIF_EXTRA_FLAG_MORE", NetifConstants.XEN_NETIF_EXTRA_FLAG_MORE);
        e.put("XEN_NETIF_GSO_TYPE_NONE", NetifConstants.XEN_NETIF_GSO_TYPE_NONE);
        e.put("XEN_NETIF_GSO_TYPE_TCPV4", NetifConstants.XEN_NETIF_GSO_TYPE_TCPV4);
        e.put("XEN_NETIF_GSO_TYPE_TCPV6", NetifConstants.XEN_NETIF_GSO_TYPE_TCPV6);
        e.put("NETIF_RSP_DROPPED", NetifConstants.NETIF_RSP_DROPPED);
        e.put("NETIF_RSP_ERROR", NetifConstants.NETIF_RSP_ERROR);
        e.put("NETIF_RSP_OKAY", NetifConstants.NETIF_RSP_OKAY);
        e.put("NETIF_RSP_NULL", NetifConstants.NETIF_RSP_NULL);

        // blkif.h
        e.put("blkif_request.operation", BlkifRequestDescriptor.OPERATION_OFFSET);
        e.put("blkif_request.nr_segments", BlkifRequestDescriptor.NR_SEGMENTS_OFFSET);
        e.put("blkif_request.handle", BlkifRequestDescriptor.HANDLE_OFFSET);
        e.put("blkif_request.id", BlkifRequestDescriptor.ID_OFFSET);
        e.put("blkif_request.sector_number", BlkifRequestDescriptor.SECTOR_NUMBER_OFFSET);
        e.put("blkif_request.seg", BlkifRequestDescriptor.segmentOffset(0));
        e.put("sizeof.blkif_request", BlkifRequestDescriptor.LENGTH);
        e.put("blkif_request_segment.gref", BlkifRequestDescriptor.SEGMENT_GREF_OFFSET);
        e.put("blkif_request_segment.first_sect", BlkifRequestDescriptor.SEGMENT_FIRST_SECT_OFFSET);
        e.put("blkif_request_segment.last_sect", BlkifRequestDescriptor.SEGMENT_LAST_SECT_OFFSET);
        e.put("sizeof.blkif_request_segment", BlkifRequestDescriptor.SEGMENT_LENGTH);
        e.put("blkif_request_discard.operation", BlkifDiscardRequestDescriptor.OPERATION_OFFSET);
        e.put("blkif_request_discard.flag", BlkifDiscardRequestDescriptor.FLAG_OFFSET);
        e.put("blkif_request_discard.handle", BlkifDiscardRequestDescriptor.HANDLE_OFFSET);
        e.put("blkif_request_discard.id", BlkifDiscardRequestDescriptor.ID_OFFSET);
        e.put("blkif_request_discard.sector_number", BlkifDiscardRequestDescriptor.SECTOR_NUMBER_OFFSET);
        e.put("blkif_request_discard.nr_sectors", BlkifDiscardRequestDescriptor.NR_SECTORS_OFFSET);
        e.put("sizeof.blkif_request_discard", BlkifDiscardRequestDescriptor.LENGTH);
        e.put("blkif_request_indirect.operation", BlkifIndirectRequestDescriptor.OPERATION_OFFSET);
        e.put("blkif_request_indirect.indirect_op", BlkifIndirectRequestDescriptor.INDIRECT_OP_OFFSET);
        e.put("blkif_request_indirect.nr_segments", BlkifIndirectRequestDescriptor.NR_SEGMENTS_OFFSET);
        e.put("blkif_request_indirect.id", BlkifIndirectRequestDescriptor.ID_OFFSET);
        e.put("blkif_request_indirect.sector_number", BlkifIndirectRequestDescriptor.SECTOR_NUMBER_OFFSET);
        e.put("blkif_request_indirect.handle", BlkifIndirectRequestDescriptor.HANDLE_OFFSET);
        e.put("blkif_request_indirect.indirect_grefs", BlkifIndirectRequestDescriptor.indirectGrefOffset(0));
        e.put("sizeof.blkif_request_indirect", BlkifIndirectRequestDescriptor.LENGTH);
        e.put("blkif_response.id", BlkifResponseDescriptor.ID_OFFSET);
        e.put("blkif_response.operation", BlkifResponseDescriptor.OPERATION_OFFSET);
        e.put("blkif_response.status", BlkifResponseDescriptor.STATUS_OFFSET);
        e.put("sizeof.blkif_response", BlkifResponseDescriptor.LENGTH);
        e.put("XEN_IO_PROTO_ABI_X86_64", BlkifConstants.XEN_IO_PROTO_ABI_X86_64);
        e.put("BLKIF_OP_READ", BlkifConstants.BLKIF_OP_READ);
        e.put("BLKIF_OP_WRITE", BlkifConstants.BLKIF_OP_WRITE);
        e.put("BLKIF_OP_WRITE_BARRIER", BlkifConstants.BLKIF_OP_WRITE_BARRIER);
        e.put("BLKIF_OP_FLUSH_DISKCACHE", BlkifConstants.BLKIF_OP_FLUSH_DISKCACHE);
        e.put("BLKIF_OP_RESERVED_1", BlkifConstants.BLKIF_OP_RESERVED_1);
        e.put("BLKIF_OP_DISCARD", BlkifConstants.BLKIF_OP_DISCARD);
        e.put("BLKIF_OP_INDIRECT", BlkifConstants.BLKIF_OP_INDIRECT);
        e.put("BLKIF_RSP_EOPNOTSUPP", BlkifConstants.BLKIF_RSP_EOPNOTSUPP);
        e.put("BLKIF_RSP_ERROR", BlkifConstants.BLKIF_RSP_ERROR);
        e.put("BLKIF_RSP_OKAY", BlkifConstants.BLKIF_RSP_OKAY);
        e.put("BLKIF_MAX_SEGMENTS_PER_REQUEST", BlkifConstants.BLKIF_MAX_SEGMENTS_PER_REQUEST);
        e.put("BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST", BlkifConstants.BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST);
        e.put("SEGS_PER_INDIRECT_FRAME", BlkifConstants.SEGS_PER_INDIRECT_FRAME);
        e.put("BLKIF_DISCARD_SECURE", BlkifConstants.BLKIF_DISCARD_SECURE);
        e.put("VDISK_CDROM", BlkifConstants.VDISK_CDROM);
        e.put("VDISK_REMOVABLE", BlkifConstants.VDISK_REMOVABLE);
        e.put("VDISK_READONLY", BlkifConstants.VDISK_READONLY);

        // grant_table.h
        e.put("grant_entry_v1.flags", GrantEntryV1Descriptor.FLAGS_OFFSET);
        e.put("grant_entry_v1.domid", GrantEntryV1Descriptor.DOMID_OFFSET);
        e.put("grant_entry_v1.frame", GrantEntryV1Descriptor.FRAME_OFFSET);
        e.put("sizeof.grant_entry_v1", GrantEntryV1Descriptor.LENGTH);
        e.put("GNTTAB_NR_RESERVED_ENTRIES", GrantEntryV1Descriptor.GNTTAB_NR_RESERVED_ENTRIES);
        e.put("GNTTAB_RESERVED_CONSOLE", GrantEntryV1Descriptor.GNTTAB_RESERVED_CONSOLE);
        e.put("GNTTAB_RESERVED_XENSTORE", GrantEntryV1Descriptor.GNTTAB_RESERVED_XENSTORE);
        e.put("GTF_invalid", GrantEntryV1Descriptor.GTF_INVALID);
        e.put("GTF_permit_access", GrantEntryV1Descriptor.GTF_PERMIT_ACCESS);
        e.put("GTF_accept_transfer", GrantEntryV1Descriptor.GTF_ACCEPT_TRANSFER);
        e.put("GTF_transitive", GrantEntryV1Descriptor.GTF_TRANSITIVE);
        e.put("GTF_type_mask", GrantEntryV1Descriptor.GTF_TYPE_MASK);
        e.put("GTF_readonly", GrantEntryV1Descriptor.GTF_READONLY);
        e.put("GTF_reading", GrantEntryV1Descriptor.GTF_READING);
        e.put("GTF_writing", GrantEntryV1Descriptor.GTF_WRITING);
        e.put("GTF_PWT", GrantEntryV1Descriptor.GTF_PWT);
        e.put("GTF_PCD", GrantEntryV1Descriptor.GTF_PCD);
        e.put("GTF_PAT", GrantEntryV1Descriptor.GTF_PAT);
        e.put("GTF_sub_page", GrantEntryV1Descriptor.GTF_SUB_PAGE);
        e.put("GTF_transfer_committed", GrantEntryV1Descriptor.GTF_TRANSFER_COMMITTED);
        e.put("GTF_transfer_completed", GrantEntryV1Descriptor.GTF_TRANSFER_COMPLETED);
        String[] gntst = {"okay", "general_error", "bad_domain", "bad_gntref", "bad_handle", "bad_virt_addr",
            "bad_dev_addr", "no_device_space", "permission_denied", "bad_page", "bad_copy_arg",
            "address_too_big", "eagain", "no_space"};
        assertThat(GrantStatus.values()).hasSize(gntst.length);
        for (int i = 0; i < gntst.length; i++) {
            GrantStatus status = GrantStatus.valueOf(gntst[i].toUpperCase());
            e.put("GNTST_" + gntst[i], status.code());
            e.put("GNTTABOP_error_msgs." + i, GrantStatus.fromCode(-i).message());
        }

        // xenbus.h: the C name is XenbusState + CamelCase of the Java constant
        for (XenbusState state : XenbusState.values()) {
            StringBuilder camel = new StringBuilder("XenbusState");
            for (String word : state.name().split("_")) {
                camel.append(word.charAt(0)).append(word.substring(1).toLowerCase());
            }
            e.put(camel.toString(), state.wire());
        }

        // backplane/ring_layouts.h
        e.put("bp_split_sring_hdr.req_prod", SplitIndexDescriptor.REQ_PROD_OFFSET);
        e.put("bp_split_sring_hdr.req_event", SplitIndexDescriptor.REQ_EVENT_OFFSET);
        e.put("bp_split_sring_hdr.rsp_prod", SplitIndexDescriptor.RSP_PROD_OFFSET);
        e.put("bp_split_sring_hdr.rsp_event", SplitIndexDescriptor.RSP_EVENT_OFFSET);
        e.put("sizeof.bp_split_sring_hdr", SplitIndexDescriptor.HEADER_LENGTH);
        e.put("bp_sep_sring_hdr.prod", SeparateRingsDescriptor.PROD_OFFSET);
        e.put("bp_sep_sring_hdr.event", SeparateRingsDescriptor.EVENT_OFFSET);
        e.put("sizeof.bp_sep_sring_hdr", SeparateRingsDescriptor.ENTRIES_OFFSET);
        e.put("bp_sep_split_sring_hdr.prod", SeparateRingsDescriptor.PROD_OFFSET);
        e.put("bp_sep_split_sring_hdr.event", SeparateRingsDescriptor.SPLIT_EVENT_OFFSET);
        e.put("sizeof.bp_sep_split_sring_hdr", SeparateRingsDescriptor.SPLIT_ENTRIES_OFFSET);
        e.put("BP_CACHE_LINE", SplitIndexDescriptor.CACHE_LINE);
        e.put("BP_NETIF_SLOT_ALIGN", AlignedSlotDescriptor.NETIF_SLOT_ALIGN);
        e.put("BP_BLKIF_SLOT_ALIGN", AlignedSlotDescriptor.BLKIF_SLOT_ALIGN);
        e.put("BP_FEATURE_SPLIT_INDEXES", RingShape.SPLIT_INDEXES);
        e.put("BP_FEATURE_ALIGNED_SLOTS", RingShape.ALIGNED_SLOTS);
        e.put("BP_FEATURE_SEPARATE_RINGS", RingShape.SEPARATE_RINGS);
        e.put("BP_RSP_RING_REF", RingShape.RSP_RING_REF);
        e.put("BP_RING_SPLIT_INDEXES", 1);
        e.put("BP_RING_ALIGNED_SLOTS", 2);
        e.put("BP_RING_SEPARATE", 4);
        layouts(e, "netif_tx", "netif-tx", NetifTxRequestDescriptor.LENGTH, NetifTxResponseDescriptor.LENGTH);
        layouts(e, "netif_rx", "netif-rx", NetifRxRequestDescriptor.LENGTH, NetifRxResponseDescriptor.LENGTH);
        layouts(e, "blkif", BlkifConstants.PROTOCOL, BlkifRequestDescriptor.LENGTH, BlkifResponseDescriptor.LENGTH);

        Map<String, String> asText = new LinkedHashMap<>();
        e.forEach((k, v) -> asText.put(k, String.valueOf(v)));
        return asText;
    }

    /** Every shape (flags as in ring_layouts.h: 1 split, 2 aligned, 4 separate) over 1..16 pages. */
    private static void layouts(Map<String, Object> e, String tag, String protocol, int requestLength, int responseLength) {
        for (int f = 0; f < 8; f++) {
            RingShape shape = new RingShape((f & 1) != 0, (f & 2) != 0, (f & 4) != 0);
            for (int pages = 1; pages <= 16; pages *= 2) {
                RingLayout l = shape.layout(protocol, pages, requestLength, responseLength);
                e.put("layout." + f + "." + tag + "." + pages, l.entries() + " " + l.bytes() + " "
                        + l.requestProducerOffset() + " " + l.requestEventOffset() + " "
                        + l.responseProducerOffset() + " " + l.responseEventOffset() + " "
                        + l.requestSlotsOffset() + " " + l.requestSlotStride() + " "
                        + l.responseSlotsOffset() + " " + l.responseSlotStride());
            }
        }
    }

    private static void ringSizes(Map<String, Object> e, String tag, int entryLength) {
        for (int pages = 1; pages <= 16; pages++) {
            int entries = SharedRingDescriptor.entryCountForPages(pages, entryLength);
            assertThat(LegacyRingLayout.ofPages(pages, entryLength).entries()).isEqualTo(entries);
            e.put("ring." + tag + "." + pages, entries);
        }
        e.put("sizeof.entry." + tag, entryLength);
    }
}
