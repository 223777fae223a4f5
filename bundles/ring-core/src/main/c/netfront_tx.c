/*
 * A netif TX frontend written against Xen's own ring.h macros, for the cross-process tests and
 * the ring benchmark (the jar carries it as io/backplane/ring/c/netfront_tx.c):
 * maps the shared file, XEN_FRONT_RING_INITs the ring, prints "ready", pushes TOTAL requests of
 * tx_pattern.h in batches of BATCH (RING_PUSH_REQUESTS_AND_CHECK_NOTIFY), checks every response
 * (RING_COPY_RESPONSE: id in order, NETIF_RSP_OKAY), and prints a summary line with the rate,
 * timed from the first response so that the backend's start-up is not counted, or, with WARMUP,
 * from the WARMUP'th response on, so that a JIT's warm-up is not counted either.
 *
 * usage: netfront_tx FILE TOTAL BATCH [WARMUP]
 */
#include "xen_ring_env.h"
#include "ring_peer.h"
#include "tx_pattern.h"

#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: %s FILE TOTAL BATCH [WARMUP]\n", argv[0]);
        return 1;
    }
    unsigned int total = strtoul(argv[2], NULL, 10);
    unsigned int batch = strtoul(argv[3], NULL, 10);
    unsigned int warmup = argc == 5 ? strtoul(argv[4], NULL, 10) : 0;
    if (warmup >= total) {
        fprintf(stderr, "WARMUP (%u) must be below TOTAL (%u)\n", warmup, total);
        return 1;
    }
    struct netif_tx_sring *sring = ring_peer_map(argv[1], 4096);
    if (!sring)
        return 1;
    struct netif_tx_front_ring front;
    XEN_FRONT_RING_INIT(&front, sring, 4096);
    printf("ready\n");
    fflush(stdout);

    unsigned int sent = 0, answered = 0;
    unsigned long notifies = 0, idle = 0;
    double start = ring_peer_now(), first = 0;
    unsigned int before_first = 0;
    while (answered < total) {
        unsigned int want = total - sent < batch ? total - sent : batch;
        if (want > 0 && RING_FREE_REQUESTS(&front) >= want) {
            int notify;
            for (unsigned int i = 0; i < want; i++)
                tx_pattern_fill(RING_GET_REQUEST(&front, front.req_prod_pvt++), sent++);
            RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&front, notify);
            notifies += notify;
        }
        int more;
        RING_FINAL_CHECK_FOR_RESPONSES(&front, more);
        if (!more) {
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
        RING_IDX prod = front.sring->rsp_prod;
        xen_rmb(); /* see responses up to prod */
        if (RING_RESPONSE_PROD_OVERFLOW(&front, prod)) {
            fprintf(stderr, "backend published an impossible rsp_prod %u (rsp_cons %u)\n", prod, front.rsp_cons);
            return 2;
        }
        for (; front.rsp_cons != prod; front.rsp_cons++, answered++) {
            struct netif_tx_response rsp;
            RING_COPY_RESPONSE(&front, front.rsp_cons, &rsp);
            if (!tx_pattern_answered(&rsp, answered))
                return 2;
        }
    }
    double secs = ring_peer_now() - first;
    printf("sent %u answered %u notifies %lu seconds %.6f mreqs %.3f\n", sent, answered, notifies, secs,
           (answered - before_first) / secs / 1e6);
    return 0;
}
