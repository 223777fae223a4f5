/*
 * Prints what sim_guest.h says of the sim's ABI as "name value" lines: the event channel
 * message's layout and codes, the page size and the domain's file names. Built by
 * SimGuestHeaderTest against the header copied out of the jar, which compares every line with
 * EvtchnWire and SimPaths, both ways.
 */
#include "backplane/sim_guest.h"

#include <stddef.h>

#define P(name, value) printf("%s %ld\n", name, (long)(value))
#define OFF(field) P("sim_evtchn_msg." #field, offsetof(struct sim_evtchn_msg, field))
#define C(name) P(#name, name)
#define S(name) printf("%s %s\n", #name, name)

int main(void)
{
    OFF(op);
    OFF(port);
    OFF(arg);
    OFF(result);
    P("sizeof.sim_evtchn_msg", sizeof(struct sim_evtchn_msg));
    C(SIM_EVTCHN_BIND_UNBOUND);
    C(SIM_EVTCHN_BIND_INTERDOMAIN);
    C(SIM_EVTCHN_NOTIFY);
    C(SIM_EVTCHN_CLOSE);
    C(SIM_EVTCHN_SHUTDOWN);
    C(SIM_EVTCHN_STATUS);
    C(SIM_EVTCHN_STREAM_TOKEN);
    C(SIM_EVTCHN_ATTACH_STREAM);
    C(SIM_EVTCHN_MASKED);
    C(SIM_EVTCHN_PENDING);
    C(SIM_EVTCHN_REPLY);
    P("sizeof.port", sizeof(evtchn_port_t));
    C(SIM_PAGE_SIZE);
    S(SIM_MEMORY);
    S(SIM_GRANT_TABLE);
    S(SIM_EVTCHN_SOCKET);
    S(SIM_XENSTORE_SOCKET);
    return 0;
}
