package io.backplane.ring.layout;

import io.backplane.api.hypervisor.DomainConfig;

/**
 * The shared ring page of {@code ring.h} ({@code struct <name>_sring} from DEFINE_RING_TYPES):
 * a 64-byte header of four free-running u32 indexes and private bytes, then the entries, each a
 * union of the request and response structure, as many as fit rounded down to a power of two.
 */
public final class SharedRingDescriptor {

    /** Xen's page size for ring protocols, whatever the OS page size (XEN_PAGE_SHIFT 12). */
    public static final int XEN_PAGE_SIZE = DomainConfig.PAGE_SIZE;

    /** {@code RING_IDX req_prod}: written by the frontend. */
    public static final int REQ_PROD_OFFSET = 0;
    /** {@code RING_IDX req_event}: written by the backend, the request index it wants a notification for. */
    public static final int REQ_EVENT_OFFSET = 4;
    /** {@code RING_IDX rsp_prod}: written by the backend. */
    public static final int RSP_PROD_OFFSET = 8;
    /** {@code RING_IDX rsp_event}: written by the frontend. */
    public static final int RSP_EVENT_OFFSET = 12;
    /** {@code pvt}: 4 private bytes (netif {@code smartpoll_active}, tapif {@code msg}). */
    public static final int PVT_OFFSET = 16;
    public static final int PVT_LENGTH = 4;
    /** {@code __pad[44]}. */
    public static final int PAD_OFFSET = 20;
    public static final int PAD_LENGTH = 44;
    /** {@code ring[]}: the first entry. Also the header length. */
    public static final int ENTRIES_OFFSET = 64;
    public static final int HEADER_LENGTH = ENTRIES_OFFSET;

    /** Value of both event indexes after SHARED_RING_INIT. */
    public static final int INITIAL_EVENT = 1;

    private SharedRingDescriptor() {
    }

    /** {@code __RD32}: round a u32 down to the nearest power of two (0 stays 0). */
    public static int roundDownToPowerOfTwo(int value) {
        return Integer.highestOneBit(value);
    }

    /**
     * {@code __RING_SIZE}: the number of entries of {@code entryLength} bytes that fit in
     * {@code bytes} of shared memory after the header, rounded down to a power of two.
     */
    public static int entryCount(int bytes, int entryLength) {
        if (entryLength <= 0) {
            throw new IllegalArgumentException("entry length must be positive, not " + entryLength);
        }
        if (bytes < ENTRIES_OFFSET + entryLength) {
            throw new IllegalArgumentException(bytes + " bytes cannot hold a ring header and one "
                    + entryLength + "-byte entry");
        }
        return roundDownToPowerOfTwo((bytes - ENTRIES_OFFSET) / entryLength);
    }

    /** Entry count of a ring spread over {@code pages} contiguous Xen pages. */
    public static int entryCountForPages(int pages, int entryLength) {
        if (pages <= 0) {
            throw new IllegalArgumentException("a ring needs at least one page, not " + pages);
        }
        return entryCount(Math.multiplyExact(pages, XEN_PAGE_SIZE), entryLength);
    }

    /** Size of the ring's entry union: the larger of the request and response (both are already padded). */
    public static int entryLength(int requestLength, int responseLength) {
        return Math.max(requestLength, responseLength);
    }

    /** Entry length of the netif TX ring: {@code union netif_tx_sring_entry}. */
    public static final int NETIF_TX_ENTRY_LENGTH =
            entryLength(NetifTxRequestDescriptor.LENGTH, NetifTxResponseDescriptor.LENGTH);
    /** Entry length of the netif RX ring: {@code union netif_rx_sring_entry}. */
    public static final int NETIF_RX_ENTRY_LENGTH =
            entryLength(NetifRxRequestDescriptor.LENGTH, NetifRxResponseDescriptor.LENGTH);
    /** Entry length of the blkif ring (x86_64 ABI): {@code union blkif_sring_entry}. */
    public static final int BLKIF_ENTRY_LENGTH =
            entryLength(BlkifRequestDescriptor.LENGTH, BlkifResponseDescriptor.LENGTH);
}
