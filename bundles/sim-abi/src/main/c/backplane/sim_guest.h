/*
 * sim_guest.h: the guest side of Backplane's sim hypervisor (docs/sim-abi.md) for frontends in C
 * on Xen's public headers: where a domain's files and sockets are (section 1), its memory and
 * grant table (2, 3; grant entries are Xen's own grant_entry_v1_t), the event channel socket's
 * messages and event stream (4), its XenStore socket through Xen's libxenstore (5) and ring.h's
 * barriers for processes sharing memory (6). The Java side of the same facts is sim-abi's
 * SimPaths and EvtchnWire; SimGuestHeaderTest compares them with what gcc sees here.
 *
 * Include it before any other header (it sets _GNU_SOURCE and __XEN_TOOLS__) and before
 * <xen/io/ring.h> (it defines ring.h's barriers); link with -lxenstore. Failures print
 * "<program>: what: why" on stderr and exit with SIM_EXIT_SETUP, or SIM_EXIT_DESTROYED when the
 * hypervisor closed the domain's sockets (the domain was destroyed).
 */
#ifndef BACKPLANE_SIM_GUEST_H
#define BACKPLANE_SIM_GUEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE                   /* program_invocation_short_name */
#endif
#ifndef __XEN_TOOLS__
#define __XEN_TOOLS__ 1               /* the current Xen interface version, as Xen's own tools */
#endif

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
#include <time.h>
#include <unistd.h>

#include <xenstore.h>
#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/event_channel.h>

/* ring.h leaves the barriers to us: processes sharing memory on x86_64 (section 6). */
#define xen_mb()  __atomic_thread_fence(__ATOMIC_SEQ_CST)   /* mfence: store-load order */
#define xen_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)   /* compiler barrier on x86 */
#define xen_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)   /* compiler barrier on x86 */

/* A guest frame: frame N of `memory` is at byte N * SIM_PAGE_SIZE (section 2). */
#define SIM_PAGE_SIZE 4096
#ifndef PAGE_SIZE
#define PAGE_SIZE SIM_PAGE_SIZE
#endif

/* The files and sockets of DIR/domains/<domid>/ (section 1). */
#define SIM_MEMORY          "memory"
#define SIM_GRANT_TABLE     "grant-table"
#define SIM_EVTCHN_SOCKET   "evtchn.sock"
#define SIM_XENSTORE_SOCKET "xenstore.sock"

#define SIM_EXIT_SETUP      2         /* a file, socket, key or reply was not as this page says */
#define SIM_EXIT_DESTROYED  3         /* end of file on evtchn.sock: the domain is gone */

/* One message on an event channel control connection, both directions (section 4). */
struct sim_evtchn_msg {
    uint32_t op;      /* request: SIM_EVTCHN_*; reply: request op | SIM_EVTCHN_REPLY */
    uint32_t port;    /* the port the message is about, local to the domain */
    uint32_t arg;     /* per op: remote domid, shutdown reason, token; 0 otherwise */
    int32_t  result;  /* replies: >= 0 success (a port for the bind ops), < 0 a negative errno */
};
#define SIM_EVTCHN_BIND_UNBOUND      1  /* arg = remote domid                  -> result = new port */
#define SIM_EVTCHN_BIND_INTERDOMAIN  2  /* port = remote port, arg = remote domid -> result = new port */
#define SIM_EVTCHN_NOTIFY            3  /* port: raise the remote end    (reply only on failure) */
#define SIM_EVTCHN_CLOSE             5  /* port: close it                -> result = 0 */
#define SIM_EVTCHN_SHUTDOWN          6  /* arg = SHUTDOWN_* (xen/sched.h) -> result = 0 */
#define SIM_EVTCHN_STATUS            7  /* port: -> result = SIM_EVTCHN_MASKED | SIM_EVTCHN_PENDING bits */
#define SIM_EVTCHN_STREAM_TOKEN      8  /* -> result = one-time token for ATTACH_STREAM */
#define SIM_EVTCHN_ATTACH_STREAM     9  /* first message of a new connection, arg = token -> result = 0 */
#define SIM_EVTCHN_MASKED            1  /*   STATUS bit: delivered, not delivered again until unmasked */
#define SIM_EVTCHN_PENDING           2  /*   STATUS bit: raised while masked; delivered at the unmask */
#define SIM_EVTCHN_REPLY          0x80  /* or-ed into the op of every reply */

/* What sim_guest_open opens: the whole of a domain, as a guest kernel has it. */
struct sim_guest {
    uint8_t *memory;                  /* frame N at memory + N * SIM_PAGE_SIZE */
    size_t memory_size;
    grant_entry_v1_t *gnttab;         /* the domain's grant table, gnttab_size bytes */
    size_t gnttab_size;
    int evtchn;                       /* the event channel control connection */
    int stream;                       /* its event stream: 4-byte ports, as /dev/xen/evtchn */
    struct xs_handle *xs;             /* the domain's XenStore connection (libxenstore) */
};

static inline void sim_die(int status, const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what, errno ? strerror(errno) : "failed");
    exit(status);
}

/* DIR/domains/<domid>/<name> into buf. */
static inline const char *sim_path(char *buf, size_t len, const char *dir, int domid, const char *name)
{
    if ((size_t)snprintf(buf, len, "%s/domains/%d/%s", dir, domid, name) >= len)
        sim_die(SIM_EXIT_SETUP, "state directory path too long");
    return buf;
}

/* mmap(MAP_SHARED) of the domain's `memory` or `grant-table`, the whole file; its size in *size. */
static inline void *sim_map_file(const char *dir, int domid, const char *name, size_t *size)
{
    char path[512];
    struct stat st;
    sim_path(path, sizeof(path), dir, domid, name);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0)
        sim_die(SIM_EXIT_SETUP, path);
    void *p = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        sim_die(SIM_EXIT_SETUP, "mmap");
    close(fd);
    *size = st.st_size;
    return p;
}

/*
 * Grants @domid access to @frame as entry @ref, as Linux's gnttab_grant_foreign_access_ref: the
 * frame and domain before the flags that publish them (GTF_permit_access, | GTF_readonly).
 */
static inline void sim_grant(grant_entry_v1_t *gnttab, grant_ref_t ref, domid_t domid, uint32_t frame, uint16_t flags)
{
    gnttab[ref].frame = frame;
    gnttab[ref].domid = domid;
    xen_wmb();
    gnttab[ref].flags = flags;
}

/* Exactly len bytes; end of file means the hypervisor destroyed the domain. */
static inline void sim_read_full(int fd, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n == 0) {
            errno = 0;
            sim_die(SIM_EXIT_DESTROYED, "domain destroyed (evtchn.sock closed)");
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            sim_die(SIM_EXIT_DESTROYED, "evtchn.sock read");
        }
        got += n;
    }
}

/* One connection to the domain's evtchn.sock. */
static inline int sim_evtchn_connect(const char *dir, int domid)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    sim_path(addr.sun_path, sizeof(addr.sun_path), dir, domid, SIM_EVTCHN_SOCKET);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
        sim_die(SIM_EXIT_SETUP, addr.sun_path);
    return fd;
}

/* A message without waiting for a reply (NOTIFY). */
static inline void sim_evtchn_send(int fd, uint32_t op, uint32_t port, uint32_t arg)
{
    struct sim_evtchn_msg m = { .op = op, .port = port, .arg = arg, .result = 0 };
    if (write(fd, &m, sizeof(m)) != sizeof(m))
        sim_die(SIM_EXIT_DESTROYED, "evtchn.sock write");
}

/* A request and its reply's result; a failed NOTIFY's reply met on the way is reported and skipped. */
static inline int32_t sim_evtchn_request(int fd, uint32_t op, uint32_t port, uint32_t arg)
{
    struct sim_evtchn_msg m;
    sim_evtchn_send(fd, op, port, arg);
    for (;;) {
        sim_read_full(fd, &m, sizeof(m));
        if (m.op == (op | SIM_EVTCHN_REPLY))
            return m.result;
        if (m.op == (SIM_EVTCHN_NOTIFY | SIM_EVTCHN_REPLY))
            fprintf(stderr, "%s: NOTIFY on port %u failed: %d\n", program_invocation_short_name, m.port, m.result);
    }
}

/* A control connection and its event stream (STREAM_TOKEN, second connection, ATTACH_STREAM). */
static inline void sim_evtchn_open(const char *dir, int domid, int *evtchn, int *stream)
{
    *evtchn = sim_evtchn_connect(dir, domid);
    int32_t token = sim_evtchn_request(*evtchn, SIM_EVTCHN_STREAM_TOKEN, 0, 0);
    if (token <= 0)
        sim_die(SIM_EXIT_SETUP, "STREAM_TOKEN refused");
    *stream = sim_evtchn_connect(dir, domid);
    if (sim_evtchn_request(*stream, SIM_EVTCHN_ATTACH_STREAM, 0, (uint32_t)token) != 0)
        sim_die(SIM_EXIT_SETUP, "ATTACH_STREAM refused");
}

/* Sleeps until @port is delivered on @stream, then re-arms it: xenevtchn_pending + xenevtchn_unmask. */
static inline void sim_wait_event(int stream, evtchn_port_t port)
{
    evtchn_port_t got;
    do {
        sim_read_full(stream, &got, sizeof(got));    /* one delivered port, now masked */
    } while (got != port);
    if (write(stream, &port, sizeof(port)) != sizeof(port))
        sim_die(SIM_EXIT_DESTROYED, "event stream write");
}

/* Xen's libxenstore on the domain's xenstore.sock: relative paths are under /local/domain/<domid>. */
static inline struct xs_handle *sim_xs_open(const char *dir, int domid)
{
    char path[512];
    setenv("XENSTORED_PATH", sim_path(path, sizeof(path), dir, domid, SIM_XENSTORE_SOCKET), 1);
    struct xs_handle *xs = xs_open(0);
    if (!xs)
        sim_die(SIM_EXIT_SETUP, "xs_open");
    return xs;
}

/* @dir/@key = @value, in transaction @t (XBT_NULL for none). */
static inline void sim_xs_put_string(struct xs_handle *xs, xs_transaction_t t, const char *dir, const char *key,
                                     const char *value)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, key);
    if (!xs_write(xs, t, path, value, strlen(value)))
        sim_die(SIM_EXIT_SETUP, path);
}

/* @dir/@key = @v in decimal, in transaction @t (XBT_NULL for none). */
static inline void sim_xs_put(struct xs_handle *xs, xs_transaction_t t, const char *dir, const char *key, uint64_t v)
{
    char value[32];
    snprintf(value, sizeof(value), "%" PRIu64, v);
    sim_xs_put_string(xs, t, dir, key, value);
}

/* @dir/@key's value (free it), or NULL when there is none. */
static inline char *sim_xs_get(struct xs_handle *xs, const char *dir, const char *key)
{
    char path[256];
    unsigned int len;
    snprintf(path, sizeof(path), "%s/%s", dir, key);
    return xs_read(xs, XBT_NULL, path, &len);
}

/* @dir/@key as a number, -1 when there is none. */
static inline long sim_xs_get_long(struct xs_handle *xs, const char *dir, const char *key)
{
    char *v = sim_xs_get(xs, dir, key);
    long n = v ? strtol(v, NULL, 10) : -1;
    free(v);
    return n;
}

/* Polls @dir/state until it is @want (a XenbusState), 20 s at most. */
static inline void sim_await_state(struct xs_handle *xs, const char *dir, long want)
{
    long state = -1;
    for (int i = 0; i < 2000; i++) {
        if ((state = sim_xs_get_long(xs, dir, "state")) == want)
            return;
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "%s: %s/state is %ld, waited 20 s for %ld\n", program_invocation_short_name, dir, state, want);
    exit(SIM_EXIT_SETUP);
}

/* Maps the domain's memory and grant table, opens its event channel pair and XenStore. */
static inline void sim_guest_open(struct sim_guest *g, const char *dir, int domid)
{
    g->memory = sim_map_file(dir, domid, SIM_MEMORY, &g->memory_size);
    g->gnttab = sim_map_file(dir, domid, SIM_GRANT_TABLE, &g->gnttab_size);
    sim_evtchn_open(dir, domid, &g->evtchn, &g->stream);
    g->xs = sim_xs_open(dir, domid);
}

#endif /* BACKPLANE_SIM_GUEST_H */
