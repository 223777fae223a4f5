/*
 * A frontend for Backplane's sim hypervisor, written from docs/sim-abi.md and Xen's headers
 * only: it maps its domain's memory and grant table, offers an event channel to dom0, publishes
 * a ring.h ring in XenStore through Xen's own libxenstore, pushes COUNT echo requests and checks
 * every response (value * 3 + 1).
 *
 *   echo_front STATE_DIR DOMID COUNT
 *
 * Exit status: 0 all responses right, 1 a wrong response, 2 a setup failure, 3 domain destroyed.
 */
#define _GNU_SOURCE
/* The current Xen interface (as Xen's own tools build); older ones define xen_mb() as mb(). */
#define __XEN_TOOLS__ 1
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

#include <xenstore.h>
#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/sched.h>

/* ring.h leaves the barriers to us: processes sharing memory on x86_64 (docs/sim-abi.md, 6). */
#define xen_mb()  __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define xen_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#include <xen/io/ring.h>

#define PAGE_SIZE 4096

/* docs/sim-abi.md, section 4 */
struct sim_evtchn_msg {
    uint32_t op;
    uint32_t port;
    uint32_t arg;
    int32_t  result;
};
#define SIM_EVTCHN_BIND_UNBOUND      1
#define SIM_EVTCHN_BIND_INTERDOMAIN  2
#define SIM_EVTCHN_NOTIFY            3
#define SIM_EVTCHN_CLOSE             5
#define SIM_EVTCHN_SHUTDOWN          6
#define SIM_EVTCHN_STATUS            7
#define SIM_EVTCHN_MASKED            1
#define SIM_EVTCHN_PENDING           2
#define SIM_EVTCHN_STREAM_TOKEN      8
#define SIM_EVTCHN_ATTACH_STREAM     9
#define SIM_EVTCHN_REPLY          0x80

struct echo_request {
    uint32_t id;
    uint32_t value;
};
struct echo_response {
    uint32_t id;
    uint32_t value;
};
DEFINE_RING_TYPES(echo, struct echo_request, struct echo_response);

#define RING_REF 8          /* the first unreserved grant reference */
#define RING_FRAME 0        /* the guest frame holding the ring */

static int evtchn_fd;       /* control connection: 16-byte requests and replies */
static int stream_fd;       /* event stream: 4-byte ports, as read/written on /dev/xen/evtchn */
static uint32_t my_port;


static void die(int status, const char *what)
{
    fprintf(stderr, "echo_front: %s: %s\n", what, errno ? strerror(errno) : "failed");
    exit(status);
}

static void *map_file(const char *dir, int domid, const char *name, size_t *size)
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
    *size = st.st_size;
    return p;
}

static void send_msg(int fd, uint32_t op, uint32_t port, uint32_t arg)
{
    struct sim_evtchn_msg m = { .op = op, .port = port, .arg = arg, .result = 0 };
    if (write(fd, &m, sizeof(m)) != sizeof(m))
        die(3, "evtchn.sock write");
}

/* Reads exactly len bytes; end of file means the hypervisor destroyed the domain. */
static void read_full(int fd, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n == 0) {
            printf("echo_front: domain destroyed (evtchn.sock closed)\n");
            exit(3);
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die(3, "evtchn.sock read");
        }
        got += n;
    }
}

/* One request with a reply on a 16-byte connection; a failed NOTIFY's reply is reported and skipped. */
static int32_t request_on(int fd, uint32_t op, uint32_t port, uint32_t arg)
{
    struct sim_evtchn_msg m;
    send_msg(fd, op, port, arg);
    for (;;) {
        read_full(fd, &m, sizeof(m));
        if (m.op == (op | SIM_EVTCHN_REPLY))
            return m.result;
        if (m.op == (SIM_EVTCHN_NOTIFY | SIM_EVTCHN_REPLY))
            fprintf(stderr, "echo_front: NOTIFY on port %u failed: %d\n", m.port, m.result);
    }
}

static int32_t request(uint32_t op, uint32_t port, uint32_t arg)
{
    return request_on(evtchn_fd, op, port, arg);
}

/* Sleeps until dom0 notifies, then re-arms the port: xenevtchn_pending + xenevtchn_unmask. */
static void wait_event(void)
{
    uint32_t port;
    do {
        read_full(stream_fd, &port, sizeof(port));   /* one delivered port, now masked */
    } while (port != my_port);
    if (write(stream_fd, &my_port, sizeof(my_port)) != sizeof(my_port))  /* unmask */
        die(3, "event stream write");
}

static void xs_put(struct xs_handle *xs, const char *key, const char *fmt, uint64_t v)
{
    char path[128], value[32];
    snprintf(path, sizeof(path), "device/echo/0/%s", key);
    snprintf(value, sizeof(value), fmt, v);
    if (!xs_write(xs, XBT_NULL, path, value, strlen(value)))
        die(2, path);
}

static uint32_t request_value(uint64_t n)
{
    return (uint32_t)(n * 0x9E3779B1ULL);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: echo_front STATE_DIR DOMID COUNT\n");
        return 2;
    }
    const char *dir = argv[1];
    int domid = atoi(argv[2]);
    uint64_t count = strtoull(argv[3], NULL, 10);

    size_t mem_size, gnt_size;
    uint8_t *memory = map_file(dir, domid, "memory", &mem_size);
    grant_entry_v1_t *gnttab = map_file(dir, domid, "grant-table", &gnt_size);

    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/domains/%d/evtchn.sock", dir, domid);
    evtchn_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (evtchn_fd < 0 || connect(evtchn_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
        die(2, addr.sun_path);
    /* The event stream: a second connection joined with the control connection's token. */
    int32_t token = request(SIM_EVTCHN_STREAM_TOKEN, 0, 0);
    stream_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (token <= 0 || stream_fd < 0 || connect(stream_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0
            || request_on(stream_fd, SIM_EVTCHN_ATTACH_STREAM, 0, (uint32_t)token) != 0)
        die(2, "event stream");

    char xs_path[512];
    snprintf(xs_path, sizeof(xs_path), "%s/domains/%d/xenstore.sock", dir, domid);
    setenv("XENSTORED_PATH", xs_path, 1);
    struct xs_handle *xs = xs_open(0);
    if (!xs)
        die(2, "xs_open");

    /* The ring in frame RING_FRAME, granted to dom0 as reference RING_REF. */
    echo_sring_t *sring = (echo_sring_t *)(memory + (size_t)RING_FRAME * PAGE_SIZE);
    memset(sring, 0, PAGE_SIZE);
    SHARED_RING_INIT(sring);
    echo_front_ring_t front;
    FRONT_RING_INIT(&front, sring, PAGE_SIZE);

    gnttab[RING_REF].frame = RING_FRAME;
    gnttab[RING_REF].domid = 0;
    xen_wmb();
    gnttab[RING_REF].flags = GTF_permit_access;

    int32_t port = request(SIM_EVTCHN_BIND_UNBOUND, 0, 0);
    if (port <= 0) {
        fprintf(stderr, "echo_front: BIND_UNBOUND failed: %d\n", port);
        return 2;
    }
    my_port = (uint32_t)port;

    xs_put(xs, "ring-ref", "%" PRIu64, RING_REF);
    xs_put(xs, "event-channel", "%" PRIu64, my_port);
    xs_put(xs, "state", "%" PRIu64, 4);

    uint64_t sent = 0, checked = 0, waits = 0;
    while (checked < count) {
        int notify;
        int produced = 0;
        while (sent < count && !RING_FULL(&front)) {
            struct echo_request *req = RING_GET_REQUEST(&front, front.req_prod_pvt);
            req->id = (uint32_t)sent;
            req->value = request_value(sent);
            front.req_prod_pvt++;
            sent++;
            produced++;
        }
        if (produced) {
            RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&front, notify);
            if (notify)
                send_msg(evtchn_fd, SIM_EVTCHN_NOTIFY, my_port, 0);
        }
        int consumed = 0;
        while (RING_HAS_UNCONSUMED_RESPONSES(&front)) {
            struct echo_response *rsp = RING_GET_RESPONSE(&front, front.rsp_cons);
            uint32_t id = rsp->id, value = rsp->value;
            uint32_t expected = request_value(checked) * 3 + 1;
            if (id != (uint32_t)checked || value != expected) {
                printf("echo_front: response %" PRIu64 " wrong: id %u value %u, expected id %u value %u\n",
                       checked, id, value, (uint32_t)checked, expected);
                return 1;
            }
            front.rsp_cons++;
            checked++;
            consumed++;
        }
        if (!consumed && (sent == count || RING_FULL(&front))) {
            int more;
            RING_FINAL_CHECK_FOR_RESPONSES(&front, more);
            if (!more) {
                wait_event();
                waits++;
            }
        }
    }

    /* The port's mask/pending bits. */
    int32_t status = request(SIM_EVTCHN_STATUS, my_port, 0);
    if (status < 0 || (status & ~(SIM_EVTCHN_MASKED | SIM_EVTCHN_PENDING))) {
        printf("echo_front: STATUS of port %u answered %d\n", my_port, status);
        return 1;
    }
    int32_t foreign = request(SIM_EVTCHN_STATUS, 4000, 0);
    if (foreign != -EINVAL) {
        printf("echo_front: STATUS of a port that is not mine answered %d, not -EINVAL\n", foreign);
        return 1;
    }
    printf("echo_front: port %u status %d\n", my_port, status);

    xs_put(xs, "checked", "%" PRIu64, checked);
    xs_put(xs, "state", "%" PRIu64, 6);
    xs_close(xs);
    printf("echo_front: %" PRIu64 " responses checked, %" PRIu64 " waits\n", checked, waits);
    fflush(stdout);
    request(SIM_EVTCHN_SHUTDOWN, 0, SHUTDOWN_poweroff);
    return 0;
}
