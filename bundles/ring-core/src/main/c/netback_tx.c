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

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s FILE TOTAL\n", argv[0]);
        return 1;
    }
    unsigned int total = strtoul(argv[2], NULL, 10);
    int fd = open(argv[1], O_RDWR);
    if (fd < 0) {
        perror(argv[1]);
        return 1;
    }
    struct netif_tx_sring *sring = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (sring == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
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
                if ((++idle & 0xfff) == 0)
                    sched_yield();
                __builtin_ia32_pause();
            }
            continue;
        }
        while (back.req_cons != prod) {
            struct netif_tx_request req;
            RING_COPY_REQUEST(&back, back.req_cons, &req);
            back.req_cons++;
            bytes += req.size + ((req.gref ^ req.offset ^ req.flags) & 1);
            struct netif_tx_response *rsp = RING_GET_RESPONSE(&back, back.rsp_prod_pvt);
            rsp->id = req.id;
            rsp->status = NETIF_RSP_OKAY;
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
