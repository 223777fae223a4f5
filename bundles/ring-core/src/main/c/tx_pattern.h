/* The request pattern of TxPattern.java: request number seq carries fields derived from seq. */
#ifndef TX_PATTERN_H
#define TX_PATTERN_H
#include <stdint.h>

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
#endif
