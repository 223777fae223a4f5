/*
 * A blkif frontend in C for Backplane's sim hypervisor, written from docs/ring-layouts.md,
 * docs/sim-abi.md and the headers only (Xen's blkif.h, ring.h, Backplane's ring_layouts.h and
 * sim_guest.h): it takes the ring layout features it is told to want and the backend offers,
 * lays its ring out with bp_ring_layout_init, connects to blkback through XenStore, writes COUNT pages of a known
 * pattern, reads them back and checks every byte of every sector.
 *
 *   blkfront_layouts STATE_DIR DOMID DEVID WANT_FLAGS PAGES COUNT
 *
 * WANT_FLAGS: BP_RING_* bits (1 split indexes, 2 aligned slots, 4 separate rings).
 * Exit status: 0 every sector right, 1 a wrong sector or failed request, 2 a setup failure,
 * 3 domain destroyed.
 */
#include "backplane/sim_guest.h"
#include <sched.h>
#include <xen/sched.h>
#include <xen/io/ring.h>
#include <xen/io/blkif.h>
#include <xen/io/protocols.h>
#include <xen/io/xenbus.h>
#include "backplane/ring_layouts.h"
#include "blkfront_sim.h"

#define FIRST_REF 8          /* the first unreserved grant reference */
#define DATA_FRAME 64        /* data pages from here; ring pages from frame 0 */

/* The pattern of byte b of sector s (BlkCFrontendLayoutTest checks the image file with the same). */
static uint8_t pattern(uint64_t s, unsigned int b)
{
    return (uint8_t)(s * 7 + b * 13 + (b >> 8) + 0x5a);
}

/* One pass: COUNT one-page requests of @op in batches of the ring size; reads are checked. */
static int run(struct bp_front_ring *f, uint8_t *memory, uint64_t count, int op, uint64_t *checked)
{
    uint32_t n = BP_RING_SIZE(f);
    for (uint64_t first = 0; first < count; first += n) {
        uint32_t batch = (uint32_t)(count - first < n ? count - first : n);
        for (uint32_t i = 0; i < batch; i++) {
            uint64_t sector = (first + i) * (PAGE_SIZE / SECTOR);
            uint8_t *page = memory + (size_t)(DATA_FRAME + i) * PAGE_SIZE;
            if (op == BLKIF_OP_WRITE)
                for (unsigned int b = 0; b < PAGE_SIZE; b++)
                    page[b] = pattern(sector + b / SECTOR, b % SECTOR);
            else
                memset(page, 0, PAGE_SIZE);
            struct blkif_request *req = BP_RING_GET_REQUEST(f, f->req_prod_pvt);
            req->operation = op;
            req->nr_segments = 1;
            req->handle = 0;
            req->id = i;
            req->sector_number = sector;
            req->seg[0].gref = FIRST_REF + 64 + i;
            req->seg[0].first_sect = 0;
            req->seg[0].last_sect = PAGE_SIZE / SECTOR - 1;
            f->req_prod_pvt++;
        }
        int notify;
        BP_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(f, notify);
        if (notify)
            notify_backend();
        for (uint32_t done = 0; done < batch;) {
            RING_IDX rp = BP_RSP_PROD(f);
            xen_rmb();                           /* the responses before reading them */
            while (f->rsp_cons != rp) {
                struct blkif_response *rsp = BP_RING_GET_RESPONSE(f, f->rsp_cons);
                if (rsp->status != BLKIF_RSP_OKAY || rsp->operation != op || rsp->id >= batch) {
                    printf("blkfront_layouts: response id %" PRIu64 " op %u status %d\n",
                           (uint64_t)rsp->id, rsp->operation, rsp->status);
                    return 1;
                }
                f->rsp_cons++;
                done++;
            }
            if (done < batch) {
                int more;
                BP_RING_FINAL_CHECK_FOR_RESPONSES(f, more);
                if (!more)
                    wait_event();
            }
        }
        if (op == BLKIF_OP_READ) {
            for (uint32_t i = 0; i < batch; i++) {
                uint64_t sector = (first + i) * (PAGE_SIZE / SECTOR);
                uint8_t *page = memory + (size_t)(DATA_FRAME + i) * PAGE_SIZE;
                for (unsigned int b = 0; b < PAGE_SIZE; b++) {
                    if (page[b] != pattern(sector + b / SECTOR, b % SECTOR)) {
                        printf("blkfront_layouts: sector %" PRIu64 " byte %u is %u, wrote %u\n",
                               sector + b / SECTOR, b % SECTOR, page[b], pattern(sector + b / SECTOR, b % SECTOR));
                        return 1;
                    }
                }
                *checked += PAGE_SIZE / SECTOR;
            }
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: blkfront_layouts STATE_DIR DOMID DEVID WANT_FLAGS PAGES COUNT\n");
        return 2;
    }
    const char *dir = argv[1];
    int domid = atoi(argv[2]);
    int devid = atoi(argv[3]);
    unsigned int want = (unsigned int)atoi(argv[4]);
    unsigned int pages = (unsigned int)atoi(argv[5]);
    uint64_t count = strtoull(argv[6], NULL, 10);

    blkfront_connect(dir, domid, devid);
    uint8_t *memory = g.memory;

    /* What the backend offers, of what we know (docs/ring-layouts.md: min of offer and own). */
    unsigned int flags = 0;
    if ((want & BP_RING_SPLIT_INDEXES) && get(be, BP_FEATURE_SPLIT_INDEXES) == 1)
        flags |= BP_RING_SPLIT_INDEXES;
    if ((want & BP_RING_ALIGNED_SLOTS) && get(be, BP_FEATURE_ALIGNED_SLOTS) == 1)
        flags |= BP_RING_ALIGNED_SLOTS;
    if ((want & BP_RING_SEPARATE) && get(be, BP_FEATURE_SEPARATE_RINGS) == 1)
        flags |= BP_RING_SEPARATE;
    if (pages > 1 && get(be, "max-ring-page-order") < __builtin_ctz(pages))
        sim_die(SIM_EXIT_SETUP, "the backend offers a smaller ring");

    struct bp_ring_layout l;
    if (bp_ring_layout_init(&l, flags, pages, sizeof(struct blkif_request), sizeof(struct blkif_response),
                            BP_BLKIF_SLOT_ALIGN))
        sim_die(SIM_EXIT_SETUP, "no slot fits");
    unsigned int granted = l.bytes / PAGE_SIZE;
    memset(memory, 0x77, l.bytes);               /* slots start as garbage; the header is initialised */
    BP_SHARED_RING_INIT(memory, &l);
    struct bp_front_ring front;
    BP_FRONT_RING_INIT(&front, memory, &l);
    for (unsigned int i = 0; i < granted; i++)
        sim_grant(g.gnttab, FIRST_REF + i, 0, i, GTF_permit_access);
    for (unsigned int i = 0; i < l.nr_ents; i++)
        sim_grant(g.gnttab, FIRST_REF + 64 + i, 0, DATA_FRAME + i, GTF_permit_access);

    /* Keys: the ring's pages (request ring, then with separate rings the response ring's). */
    for (unsigned int i = 0; i < granted; i++) {
        unsigned int per = flags & BP_RING_SEPARATE ? granted / 2 : granted;
        const char *base = i < per ? "ring-ref" : BP_RSP_RING_REF;
        char key[32];
        if (per == 1)
            snprintf(key, sizeof(key), "%s", base);
        else
            snprintf(key, sizeof(key), "%s%u", base, i % per);
        put(fe, key, FIRST_REF + i);
    }
    if (pages > 1)
        put(fe, "ring-page-order", (uint64_t)__builtin_ctz(pages));
    put(fe, "event-channel", my_port);
    sim_xs_put_string(g.xs, XBT_NULL, fe, "protocol", XEN_IO_PROTO_ABI_X86_64);
    if (flags & BP_RING_SPLIT_INDEXES)
        put(fe, BP_FEATURE_SPLIT_INDEXES, 1);
    if (flags & BP_RING_ALIGNED_SLOTS)
        put(fe, BP_FEATURE_ALIGNED_SLOTS, 1);
    if (flags & BP_RING_SEPARATE)
        put(fe, BP_FEATURE_SEPARATE_RINGS, 1);
    put(fe, "state", XenbusStateInitialised);
    sim_await_state(g.xs, be, XenbusStateConnected);
    put(fe, "state", XenbusStateConnected);
    if ((uint64_t)get(be, "sectors") < count * (PAGE_SIZE / SECTOR))
        sim_die(SIM_EXIT_SETUP, "the disk is too small");

    uint64_t checked = 0;
    if (run(&front, memory, count, BLKIF_OP_WRITE, &checked) || run(&front, memory, count, BLKIF_OP_READ, &checked))
        return 1;
    printf("blkfront_layouts: flags %u, %u ring slots, %" PRIu64 " sectors written and checked\n",
           flags, l.nr_ents, checked);
    fflush(stdout);
    xs_close(g.xs);                              /* stays Connected: the test reads the backend's status */
    return 0;
}
