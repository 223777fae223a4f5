/*
 * The event stream of docs/sim-abi.md section 4, from C: like libxenevtchn on /dev/xen/evtchn,
 * it reads 4-byte port numbers (xenevtchn_pending) and writes them back to re-arm the port
 * (xenevtchn_unmask). It offers a port to dom0, prints "PORT n", and then checks masking:
 *   1. dom0 notifies once: exactly that port is read; "GOT 1" is printed; the port is masked.
 *   2. dom0 notifies twice more while masked: STATUS shows PENDING, nothing is readable.
 *   3. The port is written back: exactly one delivery follows, no second one.
 *
 *   evtchn_stream STATE_DIR DOMID
 *
 * Exit status: 0 all checks passed, 1 a check failed, 2 a setup failure, 3 domain destroyed.
 */
#include "backplane/sim_guest.h"
#include <poll.h>
#include <xen/sched.h>

static void fail(int status, const char *what)
{
    printf("evtchn_stream: %s%s%s\n", what, errno ? ": " : "", errno ? strerror(errno) : "");
    fflush(stdout);
    exit(status);
}

/* 1 when a port can be read from the stream within ms milliseconds. */
static int readable(int fd, int ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int n = poll(&p, 1, ms);
    if (n < 0)
        fail(2, "poll");
    return n > 0;
}

static uint32_t read_port(int fd)
{
    uint32_t port;
    sim_read_full(fd, &port, sizeof(port));
    return port;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: evtchn_stream STATE_DIR DOMID\n");
        return 2;
    }
    int ctl, ev;
    sim_evtchn_open(argv[1], atoi(argv[2]), &ctl, &ev);
    /* From here on only 4-byte ports flow on ev. */

    int32_t bound = sim_evtchn_request(ctl, SIM_EVTCHN_BIND_UNBOUND, 0, 0);
    if (bound <= 0)
        fail(2, "BIND_UNBOUND refused");
    uint32_t port = (uint32_t)bound;
    printf("PORT %u\n", port);
    fflush(stdout);

    uint32_t got = read_port(ev);
    if (got != port)
        fail(1, "first delivery is not my port");
    printf("GOT 1\n");
    fflush(stdout);

    /* Masked: dom0's next notifies only mark the port pending. */
    int32_t status;
    for (int i = 0; (status = sim_evtchn_request(ctl, SIM_EVTCHN_STATUS, port, 0)) != (SIM_EVTCHN_MASKED | SIM_EVTCHN_PENDING); i++) {
        if (status < 0 || i > 1000)
            fail(1, "port never became masked and pending");
        usleep(10000);
    }
    usleep(100000); /* let the rest of dom0's notifies arrive */
    if (readable(ev, 300))
        fail(1, "a port was delivered while masked");

    /* Re-arm: the pending event is delivered at once, exactly once. */
    if (write(ev, &port, sizeof(port)) != sizeof(port))
        fail(3, "unmask write");
    if (!readable(ev, 5000))
        fail(1, "no delivery after the unmask");
    got = read_port(ev);
    if (got != port)
        fail(1, "the delivery after the unmask is not my port");
    if (readable(ev, 300))
        fail(1, "more than one delivery after the unmask");
    status = sim_evtchn_request(ctl, SIM_EVTCHN_STATUS, port, 0);
    if (status != SIM_EVTCHN_MASKED)
        fail(1, "after the second delivery the port is not masked-only");
    if (write(ev, &port, sizeof(port)) != sizeof(port))
        fail(3, "unmask write");
    /* The unmask takes effect when the hypervisor reads it from the stream, which STATUS on
     * the control connection may overtake: ask until it shows (bounded). */
    for (int i = 0; (status = sim_evtchn_request(ctl, SIM_EVTCHN_STATUS, port, 0)) != 0; i++) {
        if (status < 0 || i > 500)
            fail(1, "unmasked port still masked or pending");
        usleep(10000);
    }

    printf("evtchn_stream: masking checked, status %d\n", status);
    fflush(stdout);
    sim_evtchn_request(ctl, SIM_EVTCHN_SHUTDOWN, 0, SHUTDOWN_poweroff);
    return 0;
}
