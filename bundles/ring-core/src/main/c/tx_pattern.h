/*
 * The request pattern of TxPattern.java: request number seq carries fields derived from seq; the
 * backend answers each OKAY under its id, and the frontend checks that answer.
 */
#ifndef TX_PATTERN_H
#define TX_PATTERN_H
#include <stdint.h>
#include <stdio.h>

static inline void tx_pattern_fill(struct netif_tx_request *req, uint32_t seq)
{
    req->id = (uint16_t)(seq & 0xffff);
    req->gref = seq * 0x9e3779b1u;
    req->offset = (uint16_t)((seq * 13) & 0xfff);
    req->flags = (uint16_t)((seq >> 4) & 0xf);
    req->size = (uint16_t)((seq * 7 + 60) & 0xffff);
}

static inline int tx_pattern_matches(const struct netif_tx_request *req, uint32_t seq)
{
    struct netif_tx_request want;
    tx_pattern_fill(&want, seq);
    return req->id == want.id && req->gref == want.gref && req->offset == want.offset
        && req->flags == want.flags && req->size == want.size;
}

/*
 * The backend's answer to its copy of a request: OKAY under the request's id. Returns what the
 * backend's pass sums (the size and a bit of the other fields), so every field of the copy is used.
 */
static inline unsigned int tx_pattern_answer(struct netif_tx_response *rsp, const struct netif_tx_request *req)
{
    rsp->id = req->id;
    rsp->status = NETIF_RSP_OKAY;
    return req->size + ((req->gref ^ req->offset ^ req->flags) & 1);
}

/* Whether the answered'th response is OKAY with the id of the answered'th request; says why not. */
static inline int tx_pattern_answered(const struct netif_tx_response *rsp, unsigned int answered)
{
    if (rsp->id == (answered & 0xffff) && rsp->status == NETIF_RSP_OKAY)
        return 1;
    fprintf(stderr, "response %u is id %u status %d, expected id %u status %d\n",
            answered, rsp->id, rsp->status, answered & 0xffff, NETIF_RSP_OKAY);
    return 0;
}
#endif
