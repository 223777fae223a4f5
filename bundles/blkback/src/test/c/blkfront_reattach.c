/*
 * A blkif frontend in C for Backplane's sim hypervisor (Xen's blkif.h and ring.h, docs/sim-abi.md)
 * that, like Linux's blkfront, keeps its ring, its grants and its event channel for as long as
 * the backend says Connected, whatever happens to the process behind it: the backend may be
 * handed over, restarted and re-attached any number of times under it. It connects, then writes
 * and reads back ROUND after round of PAGES pages (a ring's worth of requests in flight at a
 * time), each round with its own pattern, until the key "data/reattach-stop" appears in its
 * domain's home; then it finishes the round and prints what it counted.
 *
 *   blkfront_reattach STATE_DIR DOMID DEVID PAGES [persistent]
 *
 * With "persistent" it asks for feature-persistent (it reuses its grants anyway) and sends each
 * page as two segments on two grants (sectors 0-3 and 4-7), so that a backend meets two grants
 * new to it in each request after a re-attach.
 *
 * Every response must answer a request of the batch in flight, each exactly once, with
 * BLKIF_RSP_OKAY; every byte read back must be the round's. The round number goes to
 * "data/reattach-rounds" after each round, for the test to see progress.
 * Exit status: 0 all counted and right, 1 a lost, duplicated, failed or wrong answer, 2 setup,
 * 3 domain destroyed.
 */
#include "backplane/sim_guest.h"
#include <xen/io/ring.h>
#include <xen/io/blkif.h>
#include <xen/io/protocols.h>
#include <xen/io/xenbus.h>
#include "blkfront_sim.h"

#define RING_REF 8           /* the ring's grant reference (frame 0) */
#define DATA_REF 16          /* data grants from here, one per ring slot */
#define DATA_FRAME 16        /* their frames */

static uint64_t requests, responses;
static int split;            /* persistent: each page in two segments on two grants */

/* Byte @b of request @i's page: in a second frame, @slots further, for sectors 4-7 when split. */
static uint8_t *data_byte(uint8_t *memory, unsigned int slots, unsigned int i, unsigned int b)
{
    unsigned int frame = DATA_FRAME + i + (split && b >= PAGE_SIZE / 2 ? slots : 0);
    return memory + (size_t)frame * PAGE_SIZE + b;
}

/* Byte b of sector s in round r (BlkReattachTest checks the image with the same). */
static uint8_t pattern(uint64_t r, uint64_t s, unsigned int b)
{
    return (uint8_t)(r * 31 + s * 7 + b * 13 + (b >> 8) + 0x5a);
}

/* One batch of @n one-page requests of @op from sector of page @first; 0 when all answered once. */
static int batch(blkif_front_ring_t *f, uint8_t *memory, uint64_t round, uint64_t first, unsigned int n, int op)
{
    unsigned int slots = RING_SIZE(f);
    uint8_t answered[slots];
    memset(answered, 0, sizeof(answered));
    for (unsigned int i = 0; i < n; i++) {
        uint64_t sector = (first + i) * (PAGE_SIZE / SECTOR);
        for (unsigned int b = 0; b < PAGE_SIZE; b++)
            *data_byte(memory, slots, i, b) = op == BLKIF_OP_WRITE ? pattern(round, sector + b / SECTOR, b % SECTOR) : 0;
        blkif_request_t *req = RING_GET_REQUEST(f, f->req_prod_pvt);
        req->operation = op;
        req->nr_segments = split ? 2 : 1;
        req->handle = 0;
        req->id = i;
        req->sector_number = sector;
        req->seg[0].gref = DATA_REF + i;
        req->seg[0].first_sect = 0;
        req->seg[0].last_sect = (split ? PAGE_SIZE / 2 : PAGE_SIZE) / SECTOR - 1;
        if (split) {
            req->seg[1].gref = DATA_REF + slots + i;
            req->seg[1].first_sect = PAGE_SIZE / 2 / SECTOR;
            req->seg[1].last_sect = PAGE_SIZE / SECTOR - 1;
        }
        f->req_prod_pvt++;
        requests++;
    }
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(f, notify);
    if (notify)
        notify_backend();  /* to nobody while the backend restarts */
    for (unsigned int done = 0; done < n;) {
        RING_IDX rp = f->sring->rsp_prod;
        xen_rmb();                               /* the responses before reading them */
        if (rp - f->rsp_cons > n - done) {
            printf("blkfront_reattach: rsp_prod %u is %u responses ahead, %u requests outstanding\n",
                   rp, rp - f->rsp_cons, n - done);
            return 1;
        }
        while (f->rsp_cons != rp) {
            blkif_response_t *rsp = RING_GET_RESPONSE(f, f->rsp_cons);
            if (rsp->status != BLKIF_RSP_OKAY || rsp->operation != op || rsp->id >= n || answered[rsp->id]) {
                printf("blkfront_reattach: round %" PRIu64 ": response id %" PRIu64 " op %u status %d%s\n", round,
                       (uint64_t)rsp->id, rsp->operation, rsp->status,
                       rsp->id < n && answered[rsp->id] ? " answers a request twice" : "");
                return 1;
            }
            answered[rsp->id] = 1;
            f->rsp_cons++;
            responses++;
            done++;
        }
        if (done < n) {
            int more;
            RING_FINAL_CHECK_FOR_RESPONSES(f, more);
            if (!more)
                wait_event();
        }
    }
    if (op == BLKIF_OP_READ) {
        for (unsigned int i = 0; i < n; i++) {
            uint64_t sector = (first + i) * (PAGE_SIZE / SECTOR);
            for (unsigned int b = 0; b < PAGE_SIZE; b++) {
                uint8_t got = *data_byte(memory, slots, i, b);
                if (got != pattern(round, sector + b / SECTOR, b % SECTOR)) {
                    printf("blkfront_reattach: round %" PRIu64 ": sector %" PRIu64 " byte %u is %u, wrote %u\n",
                           round, sector + b / SECTOR, b % SECTOR, got, pattern(round, sector + b / SECTOR, b % SECTOR));
                    return 1;
                }
            }
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 5 && !(argc == 6 && !strcmp(argv[5], "persistent"))) {
        fprintf(stderr, "usage: blkfront_reattach STATE_DIR DOMID DEVID PAGES [persistent]\n");
        return 2;
    }
    split = argc == 6;
    const char *dir = argv[1];
    int domid = atoi(argv[2]);
    int devid = atoi(argv[3]);
    uint64_t pages = strtoull(argv[4], NULL, 10);

    blkfront_connect(dir, domid, devid);
    uint8_t *memory = g.memory;

    blkif_sring_t *sring = (blkif_sring_t *)memory;
    SHARED_RING_INIT(sring);
    blkif_front_ring_t front;
    FRONT_RING_INIT(&front, sring, PAGE_SIZE);
    unsigned int slots = RING_SIZE(&front);
    sim_grant(g.gnttab, RING_REF, 0, 0, GTF_permit_access);
    for (unsigned int i = 0; i < (split ? 2 : 1) * slots; i++)
        sim_grant(g.gnttab, DATA_REF + i, 0, DATA_FRAME + i, GTF_permit_access);
    if (split)
        put(fe, "feature-persistent", 1);
    put(fe, "ring-ref", RING_REF);
    put(fe, "event-channel", my_port);
    sim_xs_put_string(g.xs, XBT_NULL, fe, "protocol", XEN_IO_PROTO_ABI_X86_64);
    put(fe, "state", XenbusStateInitialised);
    sim_await_state(g.xs, be, XenbusStateConnected);
    put(fe, "state", XenbusStateConnected);
    if ((uint64_t)get(be, "sectors") < pages * (PAGE_SIZE / SECTOR))
        sim_die(SIM_EXIT_SETUP, "the disk is too small");

    uint64_t round = 0;
    for (;;) {
        round++;
        for (int op = 0; op < 2; op++) {
            for (uint64_t first = 0; first < pages; first += slots) {
                unsigned int n = (unsigned int)(pages - first < slots ? pages - first : slots);
                if (batch(&front, memory, round, first, n, op == 0 ? BLKIF_OP_WRITE : BLKIF_OP_READ))
                    return 1;
            }
        }
        put("data", "reattach-rounds", round);
        if (get("data", "reattach-stop") >= 0)
            break;
        if (get(be, "state") != XenbusStateConnected) {
            printf("blkfront_reattach: the backend left Connected (state %ld) in round %" PRIu64 "\n",
                   get(be, "state"), round);
            return 1;
        }
    }
    printf("blkfront_reattach: %" PRIu64 " rounds, %" PRIu64 " requests, %" PRIu64 " responses, %" PRIu64
           " events, every byte checked\n", round, requests, responses, events);
    fflush(stdout);
    xs_close(g.xs);                              /* stays Connected: the test reads the backend's status */
    return requests == responses ? 0 : 1;
}
