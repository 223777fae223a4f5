/*
 * ring_layouts.h: Backplane's ring layouts beyond Xen's ring.h, for C frontends and backends.
 * docs/ring-layouts.md is the specification; this header is its C form, in the style of ring.h's
 * macros, and ring-core's LayoutDescriptorTest checks every number here against the Java
 * descriptors (SplitIndexDescriptor, SeparateRingsDescriptor, AlignedSlotDescriptor, RingShape).
 *
 * Three features, each negotiated through XenStore (the backend offers "feature-<name>" = "1" in
 * its directory; the frontend writes the same key as "1" in its own before it lays out its rings):
 *
 *   BP_RING_SPLIT_INDEXES   feature-split-indexes   each index on its own 64-byte cache line
 *   BP_RING_ALIGNED_SLOTS   feature-aligned-slots   slots padded to 16 (netif) / a multiple of 64 (blkif) bytes
 *   BP_RING_SEPARATE        feature-separate-rings  requests and responses on their own pages
 *
 * With none of them a ring is exactly ring.h's. The includer defines xen_mb(), xen_rmb() and
 * xen_wmb() and includes <xen/io/ring.h> first (as for Xen's own headers).
 *
 * Usage (frontend):
 *     struct bp_ring_layout l;
 *     bp_ring_layout_init(&l, flags, pages, sizeof(req), sizeof(rsp), BP_NETIF_SLOT_ALIGN);
 *     BP_SHARED_RING_INIT(base, &l);                 base: l.bytes of granted memory
 *     struct bp_front_ring f; BP_FRONT_RING_INIT(&f, base, &l);
 *     memcpy(BP_RING_GET_REQUEST(&f, f.req_prod_pvt++), &req, sizeof req);
 *     BP_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f, notify);
 */
#ifndef BACKPLANE_RING_LAYOUTS_H
#define BACKPLANE_RING_LAYOUTS_H

#include <stdint.h>

#define BP_CACHE_LINE 64
#define BP_PAGE_SIZE 4096

#define BP_RING_SPLIT_INDEXES (1u << 0)
#define BP_RING_ALIGNED_SLOTS (1u << 1)
#define BP_RING_SEPARATE      (1u << 2)

/* XenStore keys (docs/ring-layouts.md) */
#define BP_FEATURE_SPLIT_INDEXES  "feature-split-indexes"
#define BP_FEATURE_ALIGNED_SLOTS  "feature-aligned-slots"
#define BP_FEATURE_SEPARATE_RINGS "feature-separate-rings"
#define BP_RSP_RING_REF           "rsp-ring-ref"

#define BP_NETIF_SLOT_ALIGN 16
#define BP_BLKIF_SLOT_ALIGN 64

/* Split indexes, shared slots: the 256-byte header, then the slots. */
struct bp_split_sring_hdr {
    RING_IDX req_prod;     /* frontend writes */
    uint8_t  __pad0[BP_CACHE_LINE - sizeof(RING_IDX)];
    RING_IDX req_event;    /* backend writes */
    uint8_t  __pad1[BP_CACHE_LINE - sizeof(RING_IDX)];
    RING_IDX rsp_prod;     /* backend writes */
    uint8_t  __pad2[BP_CACHE_LINE - sizeof(RING_IDX)];
    RING_IDX rsp_event;    /* frontend writes */
    uint8_t  __pad3[BP_CACHE_LINE - sizeof(RING_IDX)];
};

/* Separate rings: the header of each of the two rings (request ring: req_prod/req_event,
 * response ring: rsp_prod/rsp_event). */
struct bp_sep_sring_hdr {
    RING_IDX prod;
    RING_IDX event;
    uint8_t  __pad[BP_CACHE_LINE - 2 * sizeof(RING_IDX)];
};

/* Separate rings with split indexes. */
struct bp_sep_split_sring_hdr {
    RING_IDX prod;
    uint8_t  __pad0[BP_CACHE_LINE - sizeof(RING_IDX)];
    RING_IDX event;
    uint8_t  __pad1[BP_CACHE_LINE - sizeof(RING_IDX)];
};

/* Where everything is, in bytes from the start of the ring's memory (all its pages, contiguous:
 * the request ring's pages, then with BP_RING_SEPARATE the response ring's as many pages). */
struct bp_ring_layout {
    uint32_t nr_ents;                     /* slots per direction, a power of two */
    uint32_t bytes;                       /* memory the ring spans */
    uint32_t req_prod, req_event, rsp_prod, rsp_event;
    uint32_t req_slots, req_stride, rsp_slots, rsp_stride;
};

#define __BP_ALIGN(len, align) (((len) + (align) - 1) & ~((align) - 1))
#define __BP_FIT(room, stride) ((room) < (stride) ? 0u : __RD32((room) / (stride)))

/* Fills *l for a ring of @flags over @pages pages per direction; @align is BP_NETIF_SLOT_ALIGN or
 * BP_BLKIF_SLOT_ALIGN (used only with BP_RING_ALIGNED_SLOTS). Returns 0, or -1 if no slot fits. */
static inline int bp_ring_layout_init(struct bp_ring_layout *l, unsigned int flags, unsigned int pages,
                                      uint32_t req_size, uint32_t rsp_size, uint32_t align)
{
    uint32_t ring = pages * BP_PAGE_SIZE;
    uint32_t a = (flags & BP_RING_ALIGNED_SLOTS) ? align : 1;
    if (flags & BP_RING_SEPARATE) {
        uint32_t hdr = (flags & BP_RING_SPLIT_INDEXES) ? sizeof(struct bp_sep_split_sring_hdr)
                                                       : sizeof(struct bp_sep_sring_hdr);
        uint32_t ev = (flags & BP_RING_SPLIT_INDEXES) ? offsetof(struct bp_sep_split_sring_hdr, event)
                                                      : offsetof(struct bp_sep_sring_hdr, event);
        uint32_t nreq, nrsp;
        l->req_prod = 0;
        l->req_event = ev;
        l->rsp_prod = ring;
        l->rsp_event = ring + ev;
        l->req_slots = hdr;
        l->rsp_slots = ring + hdr;
        l->req_stride = __BP_ALIGN(req_size, a);
        l->rsp_stride = __BP_ALIGN(rsp_size, a);
        nreq = __BP_FIT(ring - hdr, l->req_stride);
        nrsp = __BP_FIT(ring - hdr, l->rsp_stride);
        l->nr_ents = nreq < nrsp ? nreq : nrsp;
        l->bytes = 2 * ring;
    } else {
        uint32_t hdr;
        if (flags & BP_RING_SPLIT_INDEXES) {
            l->req_prod = offsetof(struct bp_split_sring_hdr, req_prod);
            l->req_event = offsetof(struct bp_split_sring_hdr, req_event);
            l->rsp_prod = offsetof(struct bp_split_sring_hdr, rsp_prod);
            l->rsp_event = offsetof(struct bp_split_sring_hdr, rsp_event);
            hdr = sizeof(struct bp_split_sring_hdr);
        } else {                           /* ring.h's struct <name>_sring header */
            l->req_prod = 0;
            l->req_event = 4;
            l->rsp_prod = 8;
            l->rsp_event = 12;
            hdr = 64;
        }
        l->req_slots = l->rsp_slots = hdr;
        l->req_stride = l->rsp_stride = __BP_ALIGN(req_size > rsp_size ? req_size : rsp_size, a);
        l->nr_ents = __BP_FIT(ring - hdr, l->req_stride);
        l->bytes = ring;
    }
    return l->nr_ents ? 0 : -1;
}

/* One end's private view, as ring.h's front_ring / back_ring. */
struct bp_front_ring {
    RING_IDX req_prod_pvt;
    RING_IDX rsp_cons;
    unsigned char *base;
    struct bp_ring_layout l;
};
struct bp_back_ring {
    RING_IDX rsp_prod_pvt;
    RING_IDX req_cons;
    unsigned char *base;
    struct bp_ring_layout l;
};

#define BP_IDX(base, off) (*(volatile RING_IDX *)((unsigned char *)(base) + (off)))
#define BP_REQ_PROD(r)  BP_IDX((r)->base, (r)->l.req_prod)
#define BP_REQ_EVENT(r) BP_IDX((r)->base, (r)->l.req_event)
#define BP_RSP_PROD(r)  BP_IDX((r)->base, (r)->l.rsp_prod)
#define BP_RSP_EVENT(r) BP_IDX((r)->base, (r)->l.rsp_event)

/* SHARED_RING_INIT: producers 0, event indexes 1, every other header byte 0 (the frontend, once). */
#define BP_SHARED_RING_INIT(_base, _l) do {                                     \
    const struct bp_ring_layout *__l = (_l);                                    \
    memset((_base), 0, __l->req_slots);                                         \
    if (__l->rsp_slots != __l->req_slots)                                       \
        memset((unsigned char *)(_base) + __l->rsp_prod, 0,                     \
               __l->rsp_slots - __l->rsp_prod);                                 \
    BP_IDX((_base), __l->req_event) = 1;                                        \
    BP_IDX((_base), __l->rsp_event) = 1;                                        \
} while (0)

#define BP_FRONT_RING_INIT(_r, _base, _l) do {                                  \
    (_r)->req_prod_pvt = 0;                                                     \
    (_r)->rsp_cons = 0;                                                         \
    (_r)->base = (unsigned char *)(_base);                                      \
    (_r)->l = *(_l);                                                            \
} while (0)

#define BP_BACK_RING_INIT(_r, _base, _l) do {                                   \
    (_r)->rsp_prod_pvt = 0;                                                     \
    (_r)->req_cons = 0;                                                         \
    (_r)->base = (unsigned char *)(_base);                                      \
    (_r)->l = *(_l);                                                            \
} while (0)

#define BP_RING_SIZE(_r) ((_r)->l.nr_ents)

#define BP_RING_GET_REQUEST(_r, _idx)                                           \
    ((void *)((_r)->base + (_r)->l.req_slots                                    \
              + ((_idx) & (BP_RING_SIZE(_r) - 1)) * (_r)->l.req_stride))
#define BP_RING_GET_RESPONSE(_r, _idx)                                          \
    ((void *)((_r)->base + (_r)->l.rsp_slots                                    \
              + ((_idx) & (BP_RING_SIZE(_r) - 1)) * (_r)->l.rsp_stride))

#define BP_RING_FREE_REQUESTS(_r)                                               \
    (BP_RING_SIZE(_r) - ((_r)->req_prod_pvt - (_r)->rsp_cons))
#define BP_RING_FULL(_r) (BP_RING_FREE_REQUESTS(_r) == 0)

#define BP_RING_HAS_UNCONSUMED_RESPONSES(_r)                                    \
    (BP_RSP_PROD(_r) - (_r)->rsp_cons)

#define BP_RING_HAS_UNCONSUMED_REQUESTS(_r) ({                                  \
    unsigned int req = BP_REQ_PROD(_r) - (_r)->req_cons;                        \
    unsigned int rsp = BP_RING_SIZE(_r) - ((_r)->req_cons - (_r)->rsp_prod_pvt); \
    req < rsp ? req : rsp;                                                      \
})

/* As ring.h: write the slots, xen_wmb(), publish the producer, xen_mb(), read the peer's event. */
#define BP_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(_r, _notify) do {                \
    RING_IDX __old = BP_REQ_PROD(_r);                                           \
    RING_IDX __new = (_r)->req_prod_pvt;                                        \
    xen_wmb();                                                                  \
    BP_REQ_PROD(_r) = __new;                                                    \
    xen_mb();                                                                   \
    (_notify) = ((RING_IDX)(__new - BP_REQ_EVENT(_r)) <                         \
                 (RING_IDX)(__new - __old));                                    \
} while (0)

#define BP_RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(_r, _notify) do {               \
    RING_IDX __old = BP_RSP_PROD(_r);                                           \
    RING_IDX __new = (_r)->rsp_prod_pvt;                                        \
    xen_wmb();                                                                  \
    BP_RSP_PROD(_r) = __new;                                                    \
    xen_mb();                                                                   \
    (_notify) = ((RING_IDX)(__new - BP_RSP_EVENT(_r)) <                         \
                 (RING_IDX)(__new - __old));                                    \
} while (0)

/* Before sleeping: ask for an event at the next request, xen_mb(), look once more. */
#define BP_RING_FINAL_CHECK_FOR_REQUESTS(_r, _work_to_do) do {                  \
    (_work_to_do) = BP_RING_HAS_UNCONSUMED_REQUESTS(_r);                        \
    if (_work_to_do) break;                                                     \
    BP_REQ_EVENT(_r) = (_r)->req_cons + 1;                                      \
    xen_mb();                                                                   \
    (_work_to_do) = BP_RING_HAS_UNCONSUMED_REQUESTS(_r);                        \
} while (0)

#define BP_RING_FINAL_CHECK_FOR_RESPONSES(_r, _work_to_do) do {                 \
    (_work_to_do) = BP_RING_HAS_UNCONSUMED_RESPONSES(_r);                       \
    if (_work_to_do) break;                                                     \
    BP_RSP_EVENT(_r) = (_r)->rsp_cons + 1;                                      \
    xen_mb();                                                                   \
    (_work_to_do) = BP_RING_HAS_UNCONSUMED_RESPONSES(_r);                       \
} while (0)

#endif /* BACKPLANE_RING_LAYOUTS_H */
