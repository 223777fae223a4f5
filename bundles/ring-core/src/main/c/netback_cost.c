/*
 * The C side of the ring benchmark's cost measurement: what netback_tx.c's pass costs per request
 * when nothing else runs, one thread, the ring in its cache. The thread plays the frontend only by
 * publishing req_prod over BATCH requests laid out once (tx_pattern.h); the backend's pass is
 * netback_tx.c's, macro for macro (RING_COPY_REQUEST, the field sum, the response,
 * RING_PUSH_RESPONSES_AND_CHECK_NOTIFY). Times CHUNKS chunks of PASSES passes and prints the best
 * chunk, so a time slice lost to another process does not count.
 *
 * usage: netback_cost BATCH CHUNKS PASSES; prints "ns_per_request N sum SUM"
 */
#include "xen_ring_env.h"
#include "ring_peer.h"
#include "tx_pattern.h"

#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s BATCH CHUNKS PASSES\n", argv[0]);
        return 1;
    }
    unsigned int batch = strtoul(argv[1], NULL, 10);
    int chunks = atoi(argv[2]), passes = atoi(argv[3]);
    struct netif_tx_sring *sring = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sring == MAP_FAILED || batch == 0 || batch > 256 || chunks <= 0 || passes <= 0) {
        fprintf(stderr, "bad arguments or no memory\n");
        return 1;
    }
    struct netif_tx_front_ring front;
    XEN_FRONT_RING_INIT(&front, sring, 4096);
    for (unsigned int i = 0; i < RING_SIZE(&front); i++)
        tx_pattern_fill(RING_GET_REQUEST(&front, i), i);
    struct netif_tx_back_ring back;
    BACK_RING_INIT(&back, sring, 4096);

    RING_IDX published = 0;
    unsigned long long bytes = 0;
    double best = 1e9;
    for (int c = 0; c < chunks; c++) {
        double start = ring_peer_now();
        for (int p = 0; p < passes; p++) {
            published += batch;
            sring->req_prod = published;
            __asm__ __volatile__("" ::: "memory"); /* the backend below reads it from memory */
            RING_IDX prod = back.sring->req_prod;
            xen_rmb();
            if (RING_REQUEST_PROD_OVERFLOW(&back, prod))
                return 2;
            while (back.req_cons != prod) {
                struct netif_tx_request req;
                RING_COPY_REQUEST(&back, back.req_cons, &req);
                back.req_cons++;
                bytes += tx_pattern_answer(RING_GET_RESPONSE(&back, back.rsp_prod_pvt), &req);
                back.rsp_prod_pvt++;
            }
            int notify;
            RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&back, notify);
            (void)notify;
        }
        double ns = (ring_peer_now() - start) / ((double)passes * batch) * 1e9;
        if (ns < best)
            best = ns;
    }
    printf("ns_per_request %.3f sum %llu\n", best, bytes);
    return 0;
}
