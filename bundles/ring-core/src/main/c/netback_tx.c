/*
 * A netif TX backend on Xen's ring.h macros, the C baseline of the ring benchmark: attaches to
 * the ring a frontend initialised in FILE (BACK_RING_INIT), copies each request once
 * (RING_COPY_REQUEST), answers NETIF_RSP_OKAY with its id, pushes the responses of each pass
 * (RING_PUSH_RESPONSES_AND_CHECK_NOTIFY) and re-arms with RING_FINAL_CHECK_FOR_REQUESTS before
 * idling, until TOTAL requests are answered. Every field of each copy is used (the sum the Java
 * backend computes too), so the compiler reads all of them, as a backend validating them would.
 *
 * usage: netback_tx FILE TOTAL; prints "answered TOTAL bytes SUM"
 */
#include "xen_ring_env.h"
#include "ring_peer.h"
#include "tx_pattern.h"

#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s FILE TOTAL\n", argv[0]);
        return 1;
    }
    unsigned int total = strtoul(argv[2], NULL, 10);
    struct netif_tx_sring *sring = ring_peer_map(argv[1], 4096);
    if (!sring)
        return 1;
    struct netif_tx_back_ring back;
    BACK_RING_INIT(&back, sring, 4096);

    unsigned int consumed = 0;
    unsigned long idle = 0;
    unsigned long long bytes = 0;
    while (consumed < total) {
        RING_IDX prod = back.sring->req_prod;
        xen_rmb(); /* see requests up to prod */
        if (RING_REQUEST_PROD_OVERFLOW(&back, prod)) {
            fprintf(stderr, "impossible number of requests: req_prod %u, rsp_prod_pvt %u\n", prod, back.rsp_prod_pvt);
            return 2;
        }
        if (prod == back.req_cons) {
            int more;
            RING_FINAL_CHECK_FOR_REQUESTS(&back, more);
            if (!more) {
                ring_peer_idle(&idle, 0, 0);
            }
            continue;
        }
        while (back.req_cons != prod) {
            struct netif_tx_request req;
            RING_COPY_REQUEST(&back, back.req_cons, &req);
            back.req_cons++;
            bytes += tx_pattern_answer(RING_GET_RESPONSE(&back, back.rsp_prod_pvt), &req);
            back.rsp_prod_pvt++;
            consumed++;
        }
        int notify;
        RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&back, notify);
        (void)notify;
    }
    printf("answered %u bytes %llu\n", total, bytes);
    return 0;
}
