/*
 * The C netif TX backend of the ring benchmark on Backplane's ring layouts (ring_layouts.h; flags
 * 0 is ring.h's geometry): attaches to the ring the frontend laid out in FILE for FLAGS, copies
 * each request once, answers NETIF_RSP_OKAY with its id, pushes the responses of each pass, and
 * re-arms with BP_RING_FINAL_CHECK_FOR_REQUESTS before idling (sleeping on its FIFO when given
 * two, ring_wait.h), until TOTAL requests are answered. Every field of each copy is used (the sum
 * the Java backend computes too), so the compiler reads all of them, as a backend validating them would.
 *
 * usage: netback_layouts FILE FLAGS[@PAGES] TOTAL [NOTIFY_FIFO WAIT_FIFO]; prints "answered TOTAL bytes SUM"
 */
#include "xen_ring_env.h"
#include "backplane/ring_layouts.h"
#include "ring_peer.h"
#include "ring_wait.h"
#include "tx_pattern.h"

#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 6) {
        fprintf(stderr, "usage: %s FILE FLAGS[@PAGES] TOTAL [NOTIFY_FIFO WAIT_FIFO]\n", argv[0]);
        return 1;
    }
    unsigned int flags, pages;
    if (ring_peer_flags(argv[2], &flags, &pages))
        return 1;
    unsigned int total = strtoul(argv[3], NULL, 10);
    struct ring_wait w;
    if (ring_wait_open(&w, argc == 6 ? argv[4] : NULL, argc == 6 ? argv[5] : NULL))
        return 1;
    struct bp_ring_layout l;
    if (bp_ring_layout_init(&l, flags, pages, sizeof(struct netif_tx_request), sizeof(struct netif_tx_response),
                            BP_NETIF_SLOT_ALIGN))
        return 1;
    unsigned char *base = ring_peer_map(argv[1], l.bytes);
    if (!base)
        return 1;
    struct bp_back_ring back;
    BP_BACK_RING_INIT(&back, base, &l);

    unsigned int consumed = 0;
    unsigned long idle = 0;
    unsigned long long bytes = 0;
    while (consumed < total) {
        RING_IDX prod = BP_REQ_PROD(&back);
        xen_rmb(); /* see requests up to prod */
        if (prod - back.rsp_prod_pvt > BP_RING_SIZE(&back)) {
            fprintf(stderr, "impossible number of requests: req_prod %u, rsp_prod_pvt %u\n", prod, back.rsp_prod_pvt);
            return 2;
        }
        if (prod == back.req_cons) {
            int more;
            BP_RING_FINAL_CHECK_FOR_REQUESTS(&back, more);
            if (!more) {
                if (w.wait_fd >= 0) {
                    ring_wait_sleep(&w);
                    continue;
                }
                ring_peer_idle(&idle, 0, 0);
            }
            continue;
        }
        while (back.req_cons != prod) {
            struct netif_tx_request req;
            memcpy(&req, BP_RING_GET_REQUEST(&back, back.req_cons), sizeof req);
            back.req_cons++;
            bytes += tx_pattern_answer(BP_RING_GET_RESPONSE(&back, back.rsp_prod_pvt), &req);
            back.rsp_prod_pvt++;
            consumed++;
        }
        int notify;
        BP_RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&back, notify);
        if (notify)
            ring_wait_notify(&w);
    }
    printf("answered %u bytes %llu\n", total, bytes);
    return 0;
}
