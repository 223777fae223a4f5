/*
 * blkfront_sim.h: what blkback's C test frontends share to be a guest of Backplane's sim
 * hypervisor (docs/sim-abi.md): the event channel socket and its stream, the domain's memory and
 * grant table files, the domain's XenStore socket, and the vbd's frontend and backend paths.
 * The includer defines BLKFRONT_PROG (its name, for messages), the xen_*mb() barriers and
 * includes Xen's headers (xenstore.h, grant_table.h, io/xenbus.h) first.
 */
#ifndef BLKFRONT_SIM_H
#define BLKFRONT_SIM_H

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

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
#define SIM_EVTCHN_STREAM_TOKEN      8
#define SIM_EVTCHN_ATTACH_STREAM     9
#define SIM_EVTCHN_REPLY          0x80

static int evtchn_fd, stream_fd;
static uint32_t my_port;
static struct xs_handle *xs;
static char fe[128], be[128];
static uint64_t events;          /* wake-ups from the backend */

static inline void die(int status, const char *what)
{
    fprintf(stderr, BLKFRONT_PROG ": %s: %s\n", what, errno ? strerror(errno) : "failed");
    exit(status);
}

static inline void *map_file(const char *dir, int domid, const char *name)
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

static inline void read_full(int fd, void *buf, size_t len)
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

static inline void send_msg(int fd, uint32_t op, uint32_t port, uint32_t arg)
{
    struct sim_evtchn_msg m = { .op = op, .port = port, .arg = arg, .result = 0 };
    if (write(fd, &m, sizeof(m)) != sizeof(m))
        die(2, "evtchn.sock write");
}

static inline int32_t request_on(int fd, uint32_t op, uint32_t port, uint32_t arg)
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
static inline void wait_event(void)
{
    uint32_t port;
    do {
        read_full(stream_fd, &port, sizeof(port));
    } while (port != my_port);
    events++;
    if (write(stream_fd, &my_port, sizeof(my_port)) != sizeof(my_port))
        die(2, "event stream write");
}

static inline void put(const char *dir, const char *key, uint64_t v)
{
    char path[256], value[32];
    snprintf(path, sizeof(path), "%s/%s", dir, key);
    snprintf(value, sizeof(value), "%" PRIu64, v);
    if (!xs_write(xs, XBT_NULL, path, value, strlen(value)))
        die(2, path);
}

static inline long get(const char *dir, const char *key)
{
    char path[256];
    unsigned int len;
    snprintf(path, sizeof(path), "%s/%s", dir, key);
    char *v = xs_read(xs, XBT_NULL, path, &len);
    long n = v ? strtol(v, NULL, 10) : -1;
    free(v);
    return n;
}

static inline void await_backend_state(long state)
{
    for (int i = 0; i < 2000 && get(be, "state") != state; i++)
        usleep(10000);
    if (get(be, "state") != state) {
        fprintf(stderr, BLKFRONT_PROG ": backend state %ld, waited for %ld\n", get(be, "state"), state);
        exit(2);
    }
}

static inline void grant(grant_entry_v1_t *gnttab, uint32_t ref, uint32_t frame)
{
    gnttab[ref].frame = frame;
    gnttab[ref].domid = 0;
    xen_wmb();                                   /* the entry before the flag that publishes it */
    gnttab[ref].flags = GTF_permit_access;
}

/*
 * Opens the domain's event channel socket and its stream, and its XenStore socket; finds the
 * backend of device/vbd/DEVID and waits for it to say InitWait.
 */
static inline void sim_connect(const char *dir, int domid, int devid)
{
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
    char p[160];
    unsigned int len;
    snprintf(p, sizeof(p), "%s/backend", fe);
    char *bepath = xs_read(xs, XBT_NULL, p, &len);
    if (!bepath)
        die(2, p);
    snprintf(be, sizeof(be), "%s", bepath);
    free(bepath);
    await_backend_state(XenbusStateInitWait);
}

#endif /* BLKFRONT_SIM_H */
