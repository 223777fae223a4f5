/*
 * A blkif frontend in C for Backplane's sim hypervisor, written from docs/ring-layouts.md,
 * docs/sim-abi.md and the headers only (Xen's blkif.h, ring.h, Backplane's ring_layouts.h): it
 * takes the ring layout features it is told to want and the backend offers, lays its ring out
 * with bp_ring_layout_init, connects to blkback through XenStore, writes COUNT pages of a known
 * pattern, reads them back and checks every byte of every sector.
 *
 *   blkfront_layouts STATE_DIR DOMID DEVID WANT_FLAGS PAGES COUNT
 *
 * WANT_FLAGS: BP_RING_* bits (1 split indexes, 2 aligned slots, 4 separate rings).
 * Exit status: 0 every sector right, 1 a wrong sector or failed request, 2 a setup failure.
 */
#define _GNU_SOURCE
#define __XEN_TOOLS__ 1
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <xenstore.h>
#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/sched.h>

/* ring.h leaves the barriers to us: processes sharing memory on x86_64. */
#define xen_mb()  __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define xen_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#include <xen/io/ring.h>
#include <xen/io/blkif.h>
#include <xen/io/protocols.h>
#include <xen/io/xenbus.h>
#include "backplane/ring_layouts.h"

#define PAGE_SIZE 4096
#define SECTOR 512

/* docs/sim-abi.md, section 4 */
struct sim_evtchn_msg {
    uint32_t op;
    uint32_t port;
    uint32_t arg;
    int32_t  result;
};
#define SIM_EVTCHN_BIND_UNBOUND      1
#define SIM_EVTCHN_NOTIFY            3
#define SIM_EVTCHN_SHUTDOWN          6
#define SIM_EVTCHN_STREAM_TOKEN      8
#define SIM_EVTCHN_ATTACH_STREAM     9
#define SIM_EVTCHN_REPLY          0x80

#define FIRST_REF 8          /* the first unreserved grant reference */
#define DATA_FRAME 64        /* data pages from here; ring pages from frame 0 */

static int evtchn_fd, stream_fd;
static uint32_t my_port;
static struct xs_handle *xs;
static char fe[128], be[128];

static void die(int status, const char *what)
{
    fprintf(stderr, "blkfront_layouts: %s: %s\n", what, errno ? strerror(errno) : "failed");
    exit(status);
}

static void *map_file(const char *dir, int domid, const char *name)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof(path), "%s/domains/%d/%s", dir, domid, name);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0)
        die(2, path);
    void *p = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        die(2, "mmap");
    close(fd);
    return p;
}

static void read_full(int fd, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n == 0)
            die(2, "domain destroyed");
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die(2, "evtchn.sock read");
        }
        got += n;
    }
}

static void send_msg(int fd, uint32_t op, uint32_t port, uint32_t arg)
{
    struct sim_evtchn_msg m = { .op = op, .port = port, .arg = arg, .result = 0 };
    if (write(fd, &m, sizeof(m)) != sizeof(m))
        die(2, "evtchn.sock write");
}

static int32_t request_on(int fd, uint32_t op, uint32_t port, uint32_t arg)
{
    struct sim_evtchn_msg m;
    send_msg(fd, op, port, arg);
    for (;;) {
        read_full(fd, &m, sizeof(m));
        if (m.op == (op | SIM_EVTCHN_REPLY))
            return m.result;
    }
}

/* Sleeps until dom0 notifies, then re-arms the port. */
static void wait_event(void)
{
    uint32_t port;
    do {
        read_full(stream_fd, &port, sizeof(port));
    } while (port != my_port);
    if (write(stream_fd, &my_port, sizeof(my_port)) != sizeof(my_port))
        die(2, "event stream write");
}

static void put(const char *dir, const char *key, uint64_t v)
{
    char path[256], value[32];
    snprintf(path, sizeof(path), "%s/%s", dir, key);
    snprintf(value, sizeof(value), "%" PRIu64, v);
    if (!xs_write(xs, XBT_NULL, path, value, strlen(value)))
        die(2, path);
}

static long get(const char *dir, const char *key)
{
    char path[256];
    unsigned int len;
    snprintf(path, sizeof(path), "%s/%s", dir, key);
    char *v = xs_read(xs, XBT_NULL, path, &len);
    long n = v ? strtol(v, NULL, 10) : -1;
    free(v);
    return n;
}

static void await_backend_state(long state)
{
    for (int i = 0; i < 2000 && get(be, "state") != state; i++)
        usleep(10000);
    if (get(be, "state") != state) {
        fprintf(stderr, "blkfront_layouts: backend state %ld, waited for %ld\n", get(be, "state"), state);
        exit(2);
    }
}

/* The pattern of byte b of sector s (BlkCFrontendLayoutTest checks the image file with the same). */
static uint8_t pattern(uint64_t s, unsigned int b)
{
    return (uint8_t)(s * 7 + b * 13 + (b >> 8) + 0x5a);
}

static void grant(grant_entry_v1_t *gnttab, uint32_t ref, uint32_t frame)
{
    gnttab[ref].frame = frame;
    gnttab[ref].domid = 0;
    xen_wmb();                                   /* the entry before the flag that publishes it */
    gnttab[ref].flags = GTF_permit_access;
}

/* One pass: COUNT one-page requests of @op in batches of the ring size; reads are checked. */
static int run(struct bp_front_ring *f, uint8_t *memory, uint64_t count, int op, uint64_t *checked)
{
    uint32_t n = BP_RING_SIZE(f);
    for (uint64_t first = 0; first < count; first += n) {
        uint32_t batch = (uint32_t)(count - first < n ? count - first : n);
        for (uint32_t i = 0; i < batch; i++) {
            uint64_t sector = (first + i) * (PAGE_SIZE / SECTOR);
            uint8_t *page = memory + (size_t)(DATA_FRAME + i) * PAGE_SIZE;
            if (op == BLKIF_OP_WRITE)
                for (unsigned int b = 0; b < PAGE_SIZE; b++)
                    page[b] = pattern(sector + b / SECTOR, b % SECTOR);
            else
                memset(page, 0, PAGE_SIZE);
            struct blkif_request *req = BP_RING_GET_REQUEST(f, f->req_prod_pvt);
            req->operation = op;
            req->nr_segments = 1;
            req->handle = 0;
            req->id = i;
            req->sector_number = sector;
            req->seg[0].gref = FIRST_REF + 64 + i;
            req->seg[0].first_sect = 0;
            req->seg[0].last_sect = PAGE_SIZE / SECTOR - 1;
            f->req_prod_pvt++;
        }
        int notify;
        BP_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(f, notify);
        if (notify)
            send_msg(evtchn_fd, SIM_EVTCHN_NOTIFY, my_port, 0);
        for (uint32_t done = 0; done < batch;) {
            RING_IDX rp = BP_RSP_PROD(f);
            xen_rmb();                           /* the responses before reading them */
            while (f->rsp_cons != rp) {
                struct blkif_response *rsp = BP_RING_GET_RESPONSE(f, f->rsp_cons);
                if (rsp->status != BLKIF_RSP_OKAY || rsp->operation != op || rsp->id >= batch) {
                    printf("blkfront_layouts: response id %" PRIu64 " op %u status %d\n",
                           (uint64_t)rsp->id, rsp->operation, rsp->status);
                    return 1;
                }
                f->rsp_cons++;
                done++;
            }
            if (done < batch) {
                int more;
                BP_RING_FINAL_CHECK_FOR_RESPONSES(f, more);
                if (!more)
                    wait_event();
            }
        }
        if (op == BLKIF_OP_READ) {
            for (uint32_t i = 0; i < batch; i++) {
                uint64_t sector = (first + i) * (PAGE_SIZE / SECTOR);
                uint8_t *page = memory + (size_t)(DATA_FRAME + i) * PAGE_SIZE;
                for (unsigned int b = 0; b < PAGE_SIZE; b++) {
                    if (page[b] != pattern(sector + b / SECTOR, b % SECTOR)) {
                        printf("blkfront_layouts: sector %" PRIu64 " byte %u is %u, wrote %u\n",
                               sector + b / SECTOR, b % SECTOR, page[b], pattern(sector + b / SECTOR, b % SECTOR));
                        return 1;
                    }
                }
                *checked += PAGE_SIZE / SECTOR;
            }
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: blkfront_layouts STATE_DIR DOMID DEVID WANT_FLAGS PAGES COUNT\n");
        return 2;
    }
    const char *dir = argv[1];
    int domid = atoi(argv[2]);
    int devid = atoi(argv[3]);
    unsigned int want = (unsigned int)atoi(argv[4]);
    unsigned int pages = (unsigned int)atoi(argv[5]);
    uint64_t count = strtoull(argv[6], NULL, 10);

    uint8_t *memory = map_file(dir, domid, "memory");
    grant_entry_v1_t *gnttab = map_file(dir, domid, "grant-table");

    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/domains/%d/evtchn.sock", dir, domid);
    evtchn_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (evtchn_fd < 0 || connect(evtchn_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
        die(2, addr.sun_path);
    int32_t token = request_on(evtchn_fd, SIM_EVTCHN_STREAM_TOKEN, 0, 0);
    stream_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (token <= 0 || stream_fd < 0 || connect(stream_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0
            || request_on(stream_fd, SIM_EVTCHN_ATTACH_STREAM, 0, (uint32_t)token) != 0)
        die(2, "event stream");

    char xs_path[512];
    snprintf(xs_path, sizeof(xs_path), "%s/domains/%d/xenstore.sock", dir, domid);
    setenv("XENSTORED_PATH", xs_path, 1);
    xs = xs_open(0);
    if (!xs)
        die(2, "xs_open");
    snprintf(fe, sizeof(fe), "device/vbd/%d", devid);
    {
        char p[160];
        unsigned int len;
        snprintf(p, sizeof(p), "%s/backend", fe);
        char *bepath = xs_read(xs, XBT_NULL, p, &len);
        if (!bepath)
            die(2, p);
        snprintf(be, sizeof(be), "%s", bepath);
        free(bepath);
    }
    await_backend_state(XenbusStateInitWait);

    /* What the backend offers, of what we know (docs/ring-layouts.md: min of offer and own). */
    unsigned int flags = 0;
    if ((want & BP_RING_SPLIT_INDEXES) && get(be, BP_FEATURE_SPLIT_INDEXES) == 1)
        flags |= BP_RING_SPLIT_INDEXES;
    if ((want & BP_RING_ALIGNED_SLOTS) && get(be, BP_FEATURE_ALIGNED_SLOTS) == 1)
        flags |= BP_RING_ALIGNED_SLOTS;
    if ((want & BP_RING_SEPARATE) && get(be, BP_FEATURE_SEPARATE_RINGS) == 1)
        flags |= BP_RING_SEPARATE;
    if (pages > 1 && get(be, "max-ring-page-order") < __builtin_ctz(pages))
        die(2, "the backend offers a smaller ring");

    struct bp_ring_layout l;
    if (bp_ring_layout_init(&l, flags, pages, sizeof(struct blkif_request), sizeof(struct blkif_response),
                            BP_BLKIF_SLOT_ALIGN))
        die(2, "no slot fits");
    unsigned int granted = l.bytes / PAGE_SIZE;
    memset(memory, 0x77, l.bytes);               /* slots start as garbage; the header is initialised */
    BP_SHARED_RING_INIT(memory, &l);
    struct bp_front_ring front;
    BP_FRONT_RING_INIT(&front, memory, &l);
    for (unsigned int i = 0; i < granted; i++)
        grant(gnttab, FIRST_REF + i, i);
    for (unsigned int i = 0; i < l.nr_ents; i++)
        grant(gnttab, FIRST_REF + 64 + i, DATA_FRAME + i);

    int32_t port = request_on(evtchn_fd, SIM_EVTCHN_BIND_UNBOUND, 0, 0);
    if (port <= 0)
        die(2, "BIND_UNBOUND");
    my_port = (uint32_t)port;

    /* Keys: the ring's pages (request ring, then with separate rings the response ring's). */
    for (unsigned int i = 0; i < granted; i++) {
        unsigned int per = flags & BP_RING_SEPARATE ? granted / 2 : granted;
        const char *base = i < per ? "ring-ref" : BP_RSP_RING_REF;
        char key[32];
        if (per == 1)
            snprintf(key, sizeof(key), "%s", base);
        else
            snprintf(key, sizeof(key), "%s%u", base, i % per);
        put(fe, key, FIRST_REF + i);
    }
    if (pages > 1)
        put(fe, "ring-page-order", (uint64_t)__builtin_ctz(pages));
    put(fe, "event-channel", my_port);
    {
        char p[160];
        snprintf(p, sizeof(p), "%s/protocol", fe);
        if (!xs_write(xs, XBT_NULL, p, XEN_IO_PROTO_ABI_X86_64, strlen(XEN_IO_PROTO_ABI_X86_64)))
            die(2, p);
    }
    if (flags & BP_RING_SPLIT_INDEXES)
        put(fe, BP_FEATURE_SPLIT_INDEXES, 1);
    if (flags & BP_RING_ALIGNED_SLOTS)
        put(fe, BP_FEATURE_ALIGNED_SLOTS, 1);
    if (flags & BP_RING_SEPARATE)
        put(fe, BP_FEATURE_SEPARATE_RINGS, 1);
    put(fe, "state", XenbusStateInitialised);
    await_backend_state(XenbusStateConnected);
    put(fe, "state", XenbusStateConnected);
    if ((uint64_t)get(be, "sectors") < count * (PAGE_SIZE / SECTOR))
        die(2, "the disk is too small");

    uint64_t checked = 0;
    if (run(&front, memory, count, BLKIF_OP_WRITE, &checked) || run(&front, memory, count, BLKIF_OP_READ, &checked))
        return 1;
    printf("blkfront_layouts: flags %u, %u ring slots, %" PRIu64 " sectors written and checked\n",
           flags, l.nr_ents, checked);
    fflush(stdout);
    xs_close(xs);                                /* stays Connected: the test reads the backend's status */
    return 0;
}
