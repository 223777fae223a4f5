/*
 * blkfront_sim.h: what blkback's C test frontends share on top of sim-abi's
 * backplane/sim_guest.h (the sim's guest side, docs/sim-abi.md): their domain, the vbd's
 * frontend and backend paths, its event channel, and the connection up to the backend's
 * InitWait. The includer includes backplane/sim_guest.h and Xen's io/xenbus.h first.
 */
#ifndef BLKFRONT_SIM_H
#define BLKFRONT_SIM_H

#define SECTOR 512

static struct sim_guest g;       /* the domain: memory, grant table, event channel, XenStore */
static uint32_t my_port;         /* the vbd's event channel */
static char fe[128], be[128];    /* device/vbd/DEVID and its backend's path */
static uint64_t events;          /* wake-ups from the backend */

static inline void put(const char *dir, const char *key, uint64_t v)
{
    sim_xs_put(g.xs, XBT_NULL, dir, key, v);
}

static inline long get(const char *dir, const char *key)
{
    return sim_xs_get_long(g.xs, dir, key);
}

static inline void notify_backend(void)
{
    sim_evtchn_send(g.evtchn, SIM_EVTCHN_NOTIFY, my_port, 0);
}

/* Sleeps until dom0 notifies, then re-arms the port. */
static inline void wait_event(void)
{
    sim_wait_event(g.stream, my_port);
    events++;
}

/*
 * Opens the domain, finds the backend of device/vbd/DEVID, waits for it to say InitWait and
 * offers it an event channel (my_port).
 */
static inline void blkfront_connect(const char *dir, int domid, int devid)
{
    sim_guest_open(&g, dir, domid);
    snprintf(fe, sizeof(fe), "device/vbd/%d", devid);
    char *bepath = sim_xs_get(g.xs, fe, "backend");
    if (!bepath)
        sim_die(SIM_EXIT_SETUP, "no backend path");
    snprintf(be, sizeof(be), "%s", bepath);
    free(bepath);
    sim_await_state(g.xs, be, XenbusStateInitWait);
    int32_t port = sim_evtchn_request(g.evtchn, SIM_EVTCHN_BIND_UNBOUND, 0, 0);
    if (port <= 0)
        sim_die(SIM_EXIT_SETUP, "BIND_UNBOUND");
    my_port = (uint32_t)port;
}

#endif /* BLKFRONT_SIM_H */
