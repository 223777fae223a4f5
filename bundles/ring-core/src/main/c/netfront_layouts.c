/*
 * The netif TX frontend of the ring benchmark on Backplane's ring layouts (ring_layouts.h; flags
 * 0 is ring.h's geometry): the file holds the ring's pages, laid out by bp_ring_layout_init for
 * FLAGS (1 split indexes, 2 aligned slots, 4 separate rings), BP_SHARED_RING_INIT'd here; prints
 * "ready", pushes TOTAL requests of tx_pattern.h in batches of BATCH, checks every response (id in
 * order, NETIF_RSP_OKAY) and prints a summary with the rate, timed from the first response, or,
 * with WARMUP, from the WARMUP'th response on (a JIT's warm-up is not counted either). A
 * BATCH above the ring's slots is cut to the ring's size.
 * With two FIFOs it runs notification-driven (ring_wait.h), else it busy-polls.
 *
 * usage: netfront_layouts FILE FLAGS[@PAGES] TOTAL BATCH [NOTIFY_FIFO WAIT_FIFO] [WARMUP]
 */
#include "xen_ring_env.h"
#include "backplane/ring_layouts.h"
#include "ring_peer.h"
#include "ring_wait.h"
#include "tx_pattern.h"

#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 5 || argc > 8) {
        fprintf(stderr, "usage: %s FILE FLAGS[@PAGES] TOTAL BATCH [NOTIFY_FIFO WAIT_FIFO] [WARMUP]\n", argv[0]);
        return 1;
    }
    unsigned int flags, pages;
    if (ring_peer_flags(argv[2], &flags, &pages))
        return 1;
    unsigned int total = strtoul(argv[3], NULL, 10);
    unsigned int batch = strtoul(argv[4], NULL, 10);
    int fifos = argc >= 7;
    unsigned int warmup = argc == 6 || argc == 8 ? strtoul(argv[argc - 1], NULL, 10) : 0;
    if (warmup >= total) {
        fprintf(stderr, "WARMUP (%u) must be below TOTAL (%u)\n", warmup, total);
        return 1;
    }
    struct ring_wait w;
    if (ring_wait_open(&w, fifos ? argv[5] : NULL, fifos ? argv[6] : NULL))
        return 1;
    struct bp_ring_layout l;
    if (bp_ring_layout_init(&l, flags, pages, sizeof(struct netif_tx_request), sizeof(struct netif_tx_response),
                            BP_NETIF_SLOT_ALIGN))
        return 1;
    unsigned char *base = ring_peer_map(argv[1], l.bytes);
    if (!base)
        return 1;
    BP_SHARED_RING_INIT(base, &l);
    struct bp_front_ring front;
    BP_FRONT_RING_INIT(&front, base, &l);
    if (batch > BP_RING_SIZE(&front))
        batch = BP_RING_SIZE(&front);            /* aligned slots: 128, fewer than a batch of 256 */
    printf("ready\n");
    fflush(stdout);

    unsigned int sent = 0, answered = 0;
    unsigned long idle = 0;
    double start = ring_peer_now(), first = 0;
    unsigned int before_first = 0;
    while (answered < total) {
        unsigned int want = total - sent < batch ? total - sent : batch;
        if (want > 0 && BP_RING_FREE_REQUESTS(&front) >= want) {
            int notify;
            for (unsigned int i = 0; i < want; i++)
                tx_pattern_fill(BP_RING_GET_REQUEST(&front, front.req_prod_pvt++), sent++);
            BP_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&front, notify);
            if (notify)
                ring_wait_notify(&w);
        }
        int more;
        BP_RING_FINAL_CHECK_FOR_RESPONSES(&front, more);
        if (!more) {
            /* Room for another batch: go and fill it rather than sleep. */
            if (w.wait_fd >= 0 && !(sent < total && BP_RING_FREE_REQUESTS(&front) >= want)) {
                ring_wait_sleep(&w);
                continue;
            }
            if (ring_peer_idle(&idle, start, 120)) {
                fprintf(stderr, "timed out with %u of %u answered\n", answered, total);
                return 3;
            }
            continue;
        }
        if (first == 0 && answered >= warmup) {
            first = ring_peer_now();
            before_first = answered;
        }
        RING_IDX prod = BP_RSP_PROD(&front);
        xen_rmb(); /* see responses up to prod */
        if (prod - front.rsp_cons > BP_RING_SIZE(&front)) {
            fprintf(stderr, "backend published an impossible rsp_prod %u (rsp_cons %u)\n", prod, front.rsp_cons);
            return 2;
        }
        for (; front.rsp_cons != prod; front.rsp_cons++, answered++) {
            struct netif_tx_response rsp;
            memcpy(&rsp, BP_RING_GET_RESPONSE(&front, front.rsp_cons), sizeof rsp);
            if (!tx_pattern_answered(&rsp, answered))
                return 2;
        }
    }
    double secs = ring_peer_now() - first;
    printf("sent %u answered %u notifies %lu sleeps %lu seconds %.6f mreqs %.3f\n", sent, answered, w.notifies,
           w.sleeps, secs, (answered - before_first) / secs / 1e6);
    return 0;
}
