/*
 * A frontend for Backplane's sim hypervisor, written from docs/sim-abi.md, its C form
 * backplane/sim_guest.h (sim-abi's) and Xen's headers only: it maps its domain's memory and grant table, offers an event channel to dom0, publishes
 * a ring.h ring in XenStore through Xen's own libxenstore, pushes COUNT echo requests and checks
 * every response (value * 3 + 1).
 *
 *   echo_front STATE_DIR DOMID COUNT
 *
 * Exit status: 0 all responses right, 1 a wrong response, 2 a setup failure, 3 domain destroyed.
 */
#include "backplane/sim_guest.h"
#include <xen/sched.h>
#include <xen/io/ring.h>
#include <xen/io/xenbus.h>

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

static struct sim_guest g;

static void xs_put(const char *key, uint64_t v)
{
    sim_xs_put(g.xs, XBT_NULL, "device/echo/0", key, v);
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

    sim_guest_open(&g, dir, domid);

    /* The ring in frame RING_FRAME, granted to dom0 as reference RING_REF. */
    echo_sring_t *sring = (echo_sring_t *)(g.memory + (size_t)RING_FRAME * PAGE_SIZE);
    memset(sring, 0, PAGE_SIZE);
    SHARED_RING_INIT(sring);
    echo_front_ring_t front;
    FRONT_RING_INIT(&front, sring, PAGE_SIZE);

    sim_grant(g.gnttab, RING_REF, 0, RING_FRAME, GTF_permit_access);

    int32_t port = sim_evtchn_request(g.evtchn, SIM_EVTCHN_BIND_UNBOUND, 0, 0);
    if (port <= 0) {
        fprintf(stderr, "echo_front: BIND_UNBOUND failed: %d\n", port);
        return 2;
    }
    uint32_t my_port = (uint32_t)port;

    xs_put("ring-ref", RING_REF);
    xs_put("event-channel", my_port);
    xs_put("state", XenbusStateConnected);

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
                sim_evtchn_send(g.evtchn, SIM_EVTCHN_NOTIFY, my_port, 0);
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
                sim_wait_event(g.stream, my_port);
                waits++;
            }
        }
    }

    /* The port's mask/pending bits. */
    int32_t status = sim_evtchn_request(g.evtchn, SIM_EVTCHN_STATUS, my_port, 0);
    if (status < 0 || (status & ~(SIM_EVTCHN_MASKED | SIM_EVTCHN_PENDING))) {
        printf("echo_front: STATUS of port %u answered %d\n", my_port, status);
        return 1;
    }
    int32_t foreign = sim_evtchn_request(g.evtchn, SIM_EVTCHN_STATUS, 4000, 0);
    if (foreign != -EINVAL) {
        printf("echo_front: STATUS of a port that is not mine answered %d, not -EINVAL\n", foreign);
        return 1;
    }
    printf("echo_front: port %u status %d\n", my_port, status);

    xs_put("checked", checked);
    xs_put("state", XenbusStateClosed);
    xs_close(g.xs);
    printf("echo_front: %" PRIu64 " responses checked, %" PRIu64 " waits\n", checked, waits);
    fflush(stdout);
    sim_evtchn_request(g.evtchn, SIM_EVTCHN_SHUTDOWN, 0, SHUTDOWN_poweroff);
    return 0;
}
