/*
 * A netfront in C for Backplane's sim hypervisor, written from docs/netback.md ("Multi-page rings
 * and persistent grants"), docs/sim-abi.md (sim-abi's sim_guest.h) and Xen's headers: it connects
 * device/vif/0 with TX and RX rings of 2^order pages (order = min(ORDER, the backend's max-ring-page-order)), laid out
 * in the ring layout it wants among those the backend offers (docs/ring-layouts.md, Backplane's
 * ring_layouts.h; with none, exactly ring.h's rings as Linux netfront has them), sends COUNT test
 * frames and checks every answer, then receives RXCOUNT frames from the backend and checks every
 * byte.
 *
 *   netfront_pages STATE_DIR DOMID ORDER COUNT RXCOUNT [SIZE [PERSISTENT [WANT_FLAGS [UNMAP_BATCH [RX_READONLY [POLL]]]]]]
 *
 * SIZE (bench strategies; 0 for the pattern's lengths) sends every frame at that length instead:
 * up to 4096 one slot; above, a TCP/IPv4 GSO frame (csum_blank, a GSO extra of size 1448) over as
 * many 4 KiB slots as it takes, the first holding 4096 bytes. PERSISTENT=1 writes
 * feature-persistent=1 (every slot id has its own page, granted once, so the grants are reused as
 * that feature promises). WANT_FLAGS: the ring layout features wanted, BP_RING_* bits (1 split
 * indexes, 2 aligned slots, 4 separate rings), default 0. UNMAP_BATCH "COUNT,DELAY_MS" writes
 * request-unmap-batch (docs/backends.md: the backend may keep a page mapped after answering it and
 * unmap a batch later), and then this frontend ends its access to a TX page before writing the
 * next frame into it and grants it again: ending access fails while the backend still maps the
 * page (GTF_reading), and the frontend waits for it ("reuse-waits" counts those). Free slot ids
 * are then reused oldest first (otherwise most recent first), so a page usually has its unmap
 * behind it when its turn comes. RX_READONLY N grants the RX buffers of slot ids 0..N-1 read-only,
 * a broken frontend's buffers the backend cannot write: each frame that lands there must be
 * answered NETIF_RSP_ERROR ("refused"), and the rest still arrive intact. POLL=1 busy-polls, as
 * bench ring's peers do without their FIFOs: the rings are looked at in a loop (sched_yield every
 * 4096 idle rounds) instead of sleeping on the event channel, and rsp_event is never re-armed, so
 * the backend is asked for no notification once the first is past.
 *
 * TX frame `seq`: ff x 6, 00:16:3e:40:00:01, EtherType 0x88B5, seq (u32 BE), length (u16 BE),
 * then byte i = seq * 31 + i; length 60 + (seq * 97) % 1455. RX frames are built the same way
 * by the test (any source address). Output: "TX DONE n notifications m waits w ns t" (notifications
 * sent, sleeps on the event channel, time from Connected to the last TX answer, then "cpu c": this
 * process's CPU time in ns, and "reuse-waits r") and "RX CHECKED n refused r".
 *
 * Exit status: 0 all right, 1 a wrong answer or frame, 2 a setup failure, 3 domain destroyed.
 */
#include "backplane/sim_guest.h"
#include <sched.h>
#include <xen/io/ring.h>
#include <xen/io/netif.h>
#include <xen/io/xenbus.h>
#include <xen/sched.h>
#include "backplane/ring_layouts.h"

#define FIRST_REF 8          /* the first unreserved grant reference; ref = FIRST_REF + frame */

static struct sim_guest g;
static uint32_t my_port;
static uint64_t notifications, waits, reuse_waits;

static void notify(void)
{
    sim_evtchn_send(g.evtchn, SIM_EVTCHN_NOTIFY, my_port, 0);
    notifications++;
}

#define PUSH_SLOTS 16

static void push_tx(struct bp_front_ring *tx)
{
    int do_notify;
    BP_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(tx, do_notify);
    if (do_notify)
        notify();
}

/* Sleeps until the backend notifies, then re-arms the port. */
static void wait_event(void)
{
    sim_wait_event(g.stream, my_port);
    waits++;
}

/* Frame f granted to dom0 as reference FIRST_REF + f. */
static void grant(uint32_t frame, int readonly)
{
    sim_grant(g.gnttab, FIRST_REF + frame, 0, frame, GTF_permit_access | (readonly ? GTF_readonly : 0));
}

/*
 * gnttab_end_foreign_access_ref: the entry is taken back only while the hypervisor has neither
 * GTF_reading nor GTF_writing set, with a cmpxchg since it may set them at any moment.
 */
static int end_access(uint32_t frame)
{
    uint16_t *flags = &g.gnttab[FIRST_REF + frame].flags;
    uint16_t f = __atomic_load_n(flags, __ATOMIC_ACQUIRE);
    if (f & (GTF_reading | GTF_writing))
        return 0;
    return __atomic_compare_exchange_n(flags, &f, 0, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

/* A TX page about to be rewritten, with lazy unmap asked: wait until the backend no longer maps it. */
static void reclaim_tx_page(uint32_t frame)
{
    struct timespec ms = {0, 1000000};
    while (!end_access(frame)) {
        reuse_waits++;
        nanosleep(&ms, NULL);
    }
    grant(frame, 1);
}

static uint16_t frame_length(uint32_t seq)
{
    return (uint16_t)(60 + (seq * 97u) % 1455u);
}

/* Byte k is k mod 256 (filled in main): a run "byte i = base + i" of the test pattern is one memcpy
 * from pattern + (base & 0xff), so this frontend's own cost per frame stays small next to the
 * backend's, which the strategies bench measures (a byte loop cost 12 us per 64 KiB GSO frame). */
static uint8_t pattern[256 + PAGE_SIZE];

static void fill_pattern(uint8_t *p, uint32_t base, uint32_t len)
{
    memcpy(p, pattern + (base & 0xff), len);
}

static void build_frame(uint8_t *p, uint32_t seq, uint16_t len)
{
    static const uint8_t src[6] = { 0x00, 0x16, 0x3e, 0x40, 0x00, 0x01 };
    memset(p, 0xff, 6);
    memcpy(p + 6, src, 6);
    p[12] = 0x88; p[13] = 0xB5;
    p[14] = seq >> 24; p[15] = seq >> 16; p[16] = seq >> 8; p[17] = seq;
    p[18] = len >> 8; p[19] = len;
    fill_pattern(p + 20, seq * 31 + 20, len - 20u);
}

/* A TCP/IPv4 frame of `len` bytes (GSO over slots): the headers, then byte i = seq * 31 + i. */
static void build_tcp_frame(uint8_t *p, uint32_t seq, uint32_t len)
{
    static const uint8_t src[6] = { 0x00, 0x16, 0x3e, 0x40, 0x00, 0x01 };
    uint32_t ip_len = len - 14;
    memset(p, 0, 54);
    memset(p, 0xff, 6);
    memcpy(p + 6, src, 6);
    p[12] = 0x08; p[13] = 0x00;
    p[14] = 0x45; p[16] = ip_len >> 8; p[17] = ip_len; p[22] = 64; p[23] = 6;
    p[26] = 10; p[29] = 1; p[30] = 10; p[33] = 2;          /* 10.0.0.1 -> 10.0.0.2 */
    p[34] = 0x30; p[35] = 0x39; p[36] = 0x00; p[37] = 0x50;  /* ports 12345 -> 80 */
    p[38] = seq >> 24; p[39] = seq >> 16; p[40] = seq >> 8; p[41] = seq;
    p[46] = 0x50; p[47] = 0x18; p[48] = 0xff; p[49] = 0xff;  /* 20-byte header, PSH ACK */
}

/* A received frame: the test's pattern, its own length; returns its seq or -1. */
static int64_t check_frame(const uint8_t *p, int len)
{
    if (len < 20 || p[12] != 0x88 || p[13] != 0xB5)
        return -1;
    uint32_t seq = (uint32_t)p[14] << 24 | (uint32_t)p[15] << 16 | (uint32_t)p[16] << 8 | p[17];
    if (((p[18] << 8) | p[19]) != len)
        return -1;
    for (int i = 20; i < len; i++)
        if (p[i] != (uint8_t)(seq * 31 + i))
            return -1;
    return seq;
}

int main(int argc, char **argv)
{
    if (argc < 6 || argc > 12) {
        fprintf(stderr, "usage: netfront_pages STATE_DIR DOMID ORDER COUNT RXCOUNT [SIZE [PERSISTENT [WANT_FLAGS [UNMAP_BATCH "
                "[RX_READONLY [POLL]]]]]]\n");
        return 2;
    }
    for (uint32_t k = 0; k < sizeof(pattern); k++)
        pattern[k] = (uint8_t)k;
    const char *dir = argv[1];
    int domid = atoi(argv[2]);
    int own_order = atoi(argv[3]);
    uint64_t count = strtoull(argv[4], NULL, 10);
    uint64_t rx_count = strtoull(argv[5], NULL, 10);
    uint32_t fixed_size = argc > 6 ? (uint32_t)strtoul(argv[6], NULL, 10) : 0;
    int persistent = argc > 7 && atoi(argv[7]) == 1;
    unsigned int want = argc > 8 ? strtoul(argv[8], NULL, 10) : 0;
    const char *unmap_batch = argc > 9 && argv[9][0] ? argv[9] : NULL;
    uint32_t rx_readonly = argc > 10 ? (uint32_t)strtoul(argv[10], NULL, 10) : 0;
    int busy_poll = argc > 11 && atoi(argv[11]) == 1;
    if (fixed_size != 0 && (fixed_size < 60 || fixed_size > 65535)) {
        fprintf(stderr, "netfront_pages: SIZE %u outside 60..65535 (netif.h: a u16)\n", fixed_size);
        return 2;
    }
    /* Data slots per frame, and one more ring slot for the GSO extra of a frame above a page. */
    uint32_t dslots = fixed_size > PAGE_SIZE ? (fixed_size + PAGE_SIZE - 1) / PAGE_SIZE : 1;
    int gso = fixed_size > PAGE_SIZE;

    sim_guest_open(&g, dir, domid);
    uint8_t *memory = g.memory;

    const char *fe = "device/vif/0";
    char *be = sim_xs_get(g.xs, fe, "backend");
    if (!be)
        sim_die(SIM_EXIT_SETUP, "no backend path");
    sim_await_state(g.xs, be, XenbusStateInitWait);

    /* As blkfront: min(own limit, the backend's max-ring-page-order; none means 0). */
    long max = sim_xs_get_long(g.xs, be, "max-ring-page-order");
    int order = max > 0 ? (int)max : 0;
    if (order > own_order)
        order = own_order;
    uint32_t pages = 1u << order;

    /* The layout features: those wanted that the backend offers as "1" (min of offer and own). */
    static const struct { unsigned int flag; const char *key; } features[] = {
        { BP_RING_SPLIT_INDEXES, BP_FEATURE_SPLIT_INDEXES },
        { BP_RING_ALIGNED_SLOTS, BP_FEATURE_ALIGNED_SLOTS },
        { BP_RING_SEPARATE, BP_FEATURE_SEPARATE_RINGS },
    };
    unsigned int flags = 0;
    for (unsigned int i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
        char *offered = sim_xs_get(g.xs, be, features[i].key);
        if ((want & features[i].flag) && offered && strcmp(offered, "1") == 0)
            flags |= features[i].flag;
        free(offered);
    }

    /* Frames: the TX ring's pages, the RX ring's, then one TX and one RX data page per slot. */
    struct bp_ring_layout txl, rxl;
    if (bp_ring_layout_init(&txl, flags, pages, sizeof(netif_tx_request_t), sizeof(netif_tx_response_t),
                            BP_NETIF_SLOT_ALIGN)
            || bp_ring_layout_init(&rxl, flags, pages, sizeof(netif_rx_request_t), sizeof(netif_rx_response_t),
                                   BP_NETIF_SLOT_ALIGN))
        sim_die(SIM_EXIT_SETUP, "bp_ring_layout_init");
    uint32_t tx_pages = txl.bytes / PAGE_SIZE, rx_pages = rxl.bytes / PAGE_SIZE;
    uint8_t *tx_base = memory, *rx_base = memory + (size_t)tx_pages * PAGE_SIZE;
    struct bp_front_ring tx, rx;
    memset(memory, 0, (size_t)(tx_pages + rx_pages) * PAGE_SIZE);
    BP_SHARED_RING_INIT(tx_base, &txl);
    BP_SHARED_RING_INIT(rx_base, &rxl);
    BP_FRONT_RING_INIT(&tx, tx_base, &txl);
    BP_FRONT_RING_INIT(&rx, rx_base, &rxl);
    /* One data page per slot of the smaller ring: ids and buffers are per slot. */
    uint32_t slots = BP_RING_SIZE(&tx) < BP_RING_SIZE(&rx) ? BP_RING_SIZE(&tx) : BP_RING_SIZE(&rx);
    uint32_t tx_data = tx_pages + rx_pages, rx_data = tx_data + slots;
    if ((size_t)(rx_data + slots) * PAGE_SIZE > g.memory_size
            || (size_t)(FIRST_REF + rx_data + slots) * sizeof(grant_entry_v1_t) > g.gnttab_size) {
        fprintf(stderr, "netfront_pages: %u-page rings need more memory or grant entries\n", pages);
        return 2;
    }
    for (uint32_t f = 0; f < tx_pages + rx_pages; f++)
        grant(f, 0);
    for (uint32_t i = 0; i < slots; i++) {
        grant(tx_data + i, 1);
        grant(rx_data + i, i < rx_readonly);
    }

    int32_t port = sim_evtchn_request(g.evtchn, SIM_EVTCHN_BIND_UNBOUND, 0, 0);
    if (port <= 0) {
        fprintf(stderr, "netfront_pages: BIND_UNBOUND failed: %d\n", port);
        return 2;
    }
    my_port = (uint32_t)port;

    /* xennet_alloc_rx_buffers: every RX slot gets a buffer, id = slot index. */
    for (uint32_t i = 0; i < slots; i++) {
        netif_rx_request_t *req = BP_RING_GET_REQUEST(&rx, rx.req_prod_pvt);
        req->id = (uint16_t)i;
        req->gref = FIRST_REF + rx_data + i;
        rx.req_prod_pvt++;
    }
    int unused;
    BP_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&rx, unused); /* not connected yet: nobody to notify */
    (void)unused;

    /* talk_to_netback, in one transaction; the order key and numbered refs only above one page,
     * the response ring's pages under rsp- keys with separate rings, and each layout key taken. */
    xs_transaction_t t = xs_transaction_start(g.xs);
    for (uint32_t i = 0; i < tx_pages; i++) {
        const char *prefix = i < pages ? "" : "rsp-";
        uint32_t n = i % pages;
        char key[64];
        if (order > 0)
            snprintf(key, sizeof(key), "tx-%sring-ref%u", prefix, n);
        else
            snprintf(key, sizeof(key), "tx-%sring-ref", prefix);
        sim_xs_put(g.xs, t, fe, key, FIRST_REF + i);
        if (order > 0)
            snprintf(key, sizeof(key), "rx-%sring-ref%u", prefix, n);
        else
            snprintf(key, sizeof(key), "rx-%sring-ref", prefix);
        sim_xs_put(g.xs, t, fe, key, FIRST_REF + tx_pages + i);
    }
    for (unsigned int i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
        if (flags & features[i].flag)
            sim_xs_put(g.xs, t, fe, features[i].key, 1);
    }
    if (order > 0)
        sim_xs_put(g.xs, t, fe, "ring-page-order", order);
    sim_xs_put(g.xs, t, fe, "event-channel", my_port);
    sim_xs_put(g.xs, t, fe, "request-rx-copy", 1);
    sim_xs_put(g.xs, t, fe, "feature-rx-notify", 1);
    if (persistent)
        sim_xs_put(g.xs, t, fe, "feature-persistent", 1);
    if (unmap_batch)
        sim_xs_put_string(g.xs, t, fe, "request-unmap-batch", unmap_batch);
    if (gso) {
        sim_xs_put(g.xs, t, fe, "feature-sg", 1);
        sim_xs_put(g.xs, t, fe, "feature-gso-tcpv4", 1);
    }
    sim_xs_put(g.xs, t, fe, "state", XenbusStateConnected);
    if (!xs_transaction_end(g.xs, t, 0))
        sim_die(SIM_EXIT_SETUP, "xs_transaction_end");
    sim_await_state(g.xs, be, XenbusStateConnected);
    printf("netfront_pages: connected with %u-page rings of %u slots, layout flags %u, port %u\n",
           pages, slots, flags, my_port);
    fflush(stdout);

    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    /* Free slot ids in a circular buffer (slots is a power of two, so the u32 counters may wrap):
     * a stack, the most recently answered id first, or with lazy unmap a FIFO, the oldest first. */
    uint16_t *free_ids = malloc(slots * sizeof(uint16_t));
    uint32_t free_head = 0, free_tail = slots;
    for (uint32_t i = 0; i < slots; i++)
        free_ids[i] = (uint16_t)(unmap_batch ? i : slots - 1 - i);
#define NFREE (free_tail - free_head)
#define TAKE_ID() (unmap_batch ? free_ids[free_head++ & (slots - 1)] : free_ids[--free_tail & (slots - 1)])
#define PUT_ID(id) (free_ids[free_tail++ & (slots - 1)] = (id))
    uint64_t sent = 0, answered = 0, answered_slots = 0, received = 0, refused = 0, idle = 0;
    int tx_reported = 0;
    while (answered < count || received + refused < rx_count) {
        int work = 0, more;
        uint32_t produced = 0;
        RING_IDX pushed = tx.req_prod_pvt;
        while (sent < count && NFREE >= dslots && BP_RING_FREE_REQUESTS(&tx) >= dslots + (uint32_t)gso) {
            uint16_t id = TAKE_ID();
            if (unmap_batch)
                reclaim_tx_page(tx_data + id);
            if (!gso) {
                uint16_t len = fixed_size ? (uint16_t)fixed_size : frame_length((uint32_t)sent);
                build_frame(memory + (size_t)(tx_data + id) * PAGE_SIZE, (uint32_t)sent, len);
                netif_tx_request_t *req = BP_RING_GET_REQUEST(&tx, tx.req_prod_pvt);
                req->gref = FIRST_REF + tx_data + id;
                req->offset = 0;
                req->flags = 0;
                req->id = id;
                req->size = len;
                tx.req_prod_pvt++;
            } else {
                /* First slot (4096 bytes, the headers), the GSO extra, then the other pages. */
                uint8_t *page = memory + (size_t)(tx_data + id) * PAGE_SIZE;
                build_tcp_frame(page, (uint32_t)sent, fixed_size);
                fill_pattern(page + 54, (uint32_t)sent * 31 + 54, PAGE_SIZE - 54);
                netif_tx_request_t *req = BP_RING_GET_REQUEST(&tx, tx.req_prod_pvt);
                req->gref = FIRST_REF + tx_data + id;
                req->offset = 0;
                req->flags = NETTXF_more_data | NETTXF_extra_info | NETTXF_csum_blank | NETTXF_data_validated;
                req->id = id;
                req->size = (uint16_t)fixed_size;
                tx.req_prod_pvt++;
                struct netif_extra_info *ex = (struct netif_extra_info *)BP_RING_GET_REQUEST(&tx, tx.req_prod_pvt);
                memset(ex, 0, sizeof(*ex));
                ex->type = XEN_NETIF_EXTRA_TYPE_GSO;
                ex->u.gso.size = 1448;
                ex->u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
                tx.req_prod_pvt++;
                for (uint32_t k = 1; k < dslots; k++) {
                    uint16_t fid = TAKE_ID();
                    if (unmap_batch)
                        reclaim_tx_page(tx_data + fid);
                    uint32_t at = k * PAGE_SIZE, len = fixed_size - at < PAGE_SIZE ? fixed_size - at : PAGE_SIZE;
                    uint8_t *fp = memory + (size_t)(tx_data + fid) * PAGE_SIZE;
                    fill_pattern(fp, (uint32_t)sent * 31 + at, len);
                    req = BP_RING_GET_REQUEST(&tx, tx.req_prod_pvt);
                    req->gref = FIRST_REF + tx_data + fid;
                    req->offset = 0;
                    req->flags = k + 1 < dslots ? NETTXF_more_data : 0;
                    req->id = fid;
                    req->size = (uint16_t)len;
                    tx.req_prod_pvt++;
                }
            }
            sent++;
            produced++;
            /* Push as Linux netfront pushes each skb, at least every PUSH_SLOTS slots, so that the
             * backend serves what is pushed while this frontend writes the next frames (a GSO frame
             * is pushed on its own); one push per ring-full would make the two take turns. */
            if (tx.req_prod_pvt - pushed >= PUSH_SLOTS) {
                push_tx(&tx);
                pushed = tx.req_prod_pvt;
            }
        }
        if (tx.req_prod_pvt != pushed)
            push_tx(&tx);
        if (produced)
            work = 1;
        while (BP_RING_HAS_UNCONSUMED_RESPONSES(&tx)) {
            netif_tx_response_t *rsp = BP_RING_GET_RESPONSE(&tx, tx.rsp_cons);
            uint16_t id = rsp->id;
            int16_t status = rsp->status;
            tx.rsp_cons++;
            if (status == NETIF_RSP_NULL)
                continue;                      /* the GSO extra's slot */
            if (status != NETIF_RSP_OKAY || id >= slots) {
                printf("netfront_pages: TX answer %" PRIu64 ": id %u status %d\n", answered, id, status);
                return 1;
            }
            PUT_ID(id);
            if (++answered_slots % dslots == 0)
                answered++;
            work = 1;
        }
        if (!tx_reported && answered == count) {
            clock_gettime(CLOCK_MONOTONIC, &end);
            uint64_t ns = (uint64_t)(end.tv_sec - start.tv_sec) * 1000000000u + end.tv_nsec - start.tv_nsec;
            struct timespec cpu;
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
            printf("netfront_pages: TX DONE %" PRIu64 " notifications %" PRIu64 " waits %" PRIu64 " ns %" PRIu64
                   " cpu %" PRIu64 " reuse-waits %" PRIu64 "\n", answered, notifications, waits, ns,
                   (uint64_t)cpu.tv_sec * 1000000000u + cpu.tv_nsec, reuse_waits);
            fflush(stdout);
            sim_xs_put(g.xs, XBT_NULL, fe, "c-tx-done", answered);
            tx_reported = 1;
        }
        uint32_t reposted = 0;
        while (BP_RING_HAS_UNCONSUMED_RESPONSES(&rx)) {
            netif_rx_response_t *rsp = BP_RING_GET_RESPONSE(&rx, rx.rsp_cons);
            uint16_t id = rsp->id, offset = rsp->offset, flags = rsp->flags;
            int16_t status = rsp->status;
            rx.rsp_cons++;
            if (id < rx_readonly && status == NETIF_RSP_ERROR && rx_count > 0) {
                refused++;                     /* a buffer it could not write: refused, not lost */
                goto repost;
            }
            if (id >= slots || status <= 0 || offset + status > PAGE_SIZE
                    || (flags & (NETRXF_more_data | NETRXF_extra_info))) {
                printf("netfront_pages: RX response %" PRIu64 ": id %u offset %u flags 0x%x status %d\n",
                       received, id, offset, flags, status);
                return 1;
            }
            /* With RXCOUNT 0 nothing is expected: a frame is the host's own traffic (a TAP's IPv6
             * router solicitation), reposted unchecked. */
            if (rx_count > 0 && check_frame(memory + (size_t)(rx_data + id) * PAGE_SIZE + offset, status) < 0) {
                printf("netfront_pages: RX frame %" PRIu64 " (%d bytes) does not match the pattern\n", received, status);
                return 1;
            }
            if (rx_count > 0)
                received++;
        repost:;
            netif_rx_request_t *req = BP_RING_GET_REQUEST(&rx, rx.req_prod_pvt);
            req->id = id;
            req->gref = FIRST_REF + rx_data + id;
            rx.req_prod_pvt++;
            reposted++;
        }
        if (reposted) {
            int do_notify;
            BP_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&rx, do_notify);
            if (do_notify)
                notify();
            work = 1;
        }
        if (!work && busy_poll) {
            if ((++idle & 0xfff) == 0)
                sched_yield();
            __builtin_ia32_pause();
        } else if (!work && !(sent < count && NFREE >= dslots && BP_RING_FREE_REQUESTS(&tx) >= dslots + (uint32_t)gso)) {
            /* Idle: the final check on both rings (sets rsp_event), then sleep on the port. */
            BP_RING_FINAL_CHECK_FOR_RESPONSES(&tx, more);
            if (!more)
                BP_RING_FINAL_CHECK_FOR_RESPONSES(&rx, more);
            if (!more)
                wait_event();
        }
    }
    printf("netfront_pages: RX CHECKED %" PRIu64 " refused %" PRIu64 "\n", received, refused);
    sim_xs_put(g.xs, XBT_NULL, fe, "c-rx-checked", received);
    fflush(stdout);
    xs_close(g.xs);
    /* A guest that is done powers off, so the toolstack sees a shutdown and not a crash. */
    sim_evtchn_request(g.evtchn, SIM_EVTCHN_SHUTDOWN, 0, SHUTDOWN_poweroff);
    free(free_ids);
    free(be);
    return 0;
}
