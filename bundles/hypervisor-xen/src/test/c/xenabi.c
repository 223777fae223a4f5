/* Prints every number of the hypervisor-xen ABI descriptors, from Xen's Linux device headers. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/event_channel.h>
#include <xen/sys/gntdev.h>
#include <xen/sys/evtchn.h>
#include <xen/sys/privcmd.h>

#define OFF(s, f) printf("%s.%s %zu\n", #s, #f, offsetof(struct s, f))
#define TOFF(t, f) printf("%s.%s %zu\n", #t, #f, offsetof(t, f))
#define SIZE(s) printf("sizeof.%s %zu\n", #s, sizeof(struct s))
#define TSIZE(t) printf("sizeof.%s %zu\n", #t, sizeof(t))
#define NUM(n) printf("%s %lu\n", #n, (unsigned long)(n))

int main(void) {
    OFF(ioctl_gntdev_grant_ref, domid);
    OFF(ioctl_gntdev_grant_ref, ref);
    SIZE(ioctl_gntdev_grant_ref);
    OFF(ioctl_gntdev_map_grant_ref, count);
    OFF(ioctl_gntdev_map_grant_ref, pad);
    OFF(ioctl_gntdev_map_grant_ref, index);
    OFF(ioctl_gntdev_map_grant_ref, refs);
    SIZE(ioctl_gntdev_map_grant_ref);
    NUM(IOCTL_GNTDEV_MAP_GRANT_REF);
    OFF(ioctl_gntdev_unmap_grant_ref, index);
    OFF(ioctl_gntdev_unmap_grant_ref, count);
    OFF(ioctl_gntdev_unmap_grant_ref, pad);
    SIZE(ioctl_gntdev_unmap_grant_ref);
    NUM(IOCTL_GNTDEV_UNMAP_GRANT_REF);
    OFF(ioctl_gntdev_grant_copy_segment, source);
    OFF(ioctl_gntdev_grant_copy_segment, dest);
    OFF(ioctl_gntdev_grant_copy_segment, source.virt);
    OFF(ioctl_gntdev_grant_copy_segment, source.foreign.ref);
    OFF(ioctl_gntdev_grant_copy_segment, source.foreign.offset);
    OFF(ioctl_gntdev_grant_copy_segment, source.foreign.domid);
    OFF(ioctl_gntdev_grant_copy_segment, dest.virt);
    OFF(ioctl_gntdev_grant_copy_segment, dest.foreign.ref);
    OFF(ioctl_gntdev_grant_copy_segment, dest.foreign.offset);
    OFF(ioctl_gntdev_grant_copy_segment, dest.foreign.domid);
    printf("sizeof.ioctl_gntdev_grant_copy_segment.source %zu\n", sizeof(((struct ioctl_gntdev_grant_copy_segment *)0)->source));
    OFF(ioctl_gntdev_grant_copy_segment, len);
    OFF(ioctl_gntdev_grant_copy_segment, flags);
    OFF(ioctl_gntdev_grant_copy_segment, status);
    SIZE(ioctl_gntdev_grant_copy_segment);
    NUM(GNTCOPY_source_gref);
    NUM(GNTCOPY_dest_gref);
    OFF(ioctl_gntdev_grant_copy, count);
    OFF(ioctl_gntdev_grant_copy, segments);
    SIZE(ioctl_gntdev_grant_copy);
    NUM(IOCTL_GNTDEV_GRANT_COPY);

    OFF(ioctl_evtchn_bind_interdomain, remote_domain);
    OFF(ioctl_evtchn_bind_interdomain, remote_port);
    SIZE(ioctl_evtchn_bind_interdomain);
    NUM(IOCTL_EVTCHN_BIND_INTERDOMAIN);
    OFF(ioctl_evtchn_bind_unbound_port, remote_domain);
    SIZE(ioctl_evtchn_bind_unbound_port);
    NUM(IOCTL_EVTCHN_BIND_UNBOUND_PORT);
    OFF(ioctl_evtchn_unbind, port);
    SIZE(ioctl_evtchn_unbind);
    NUM(IOCTL_EVTCHN_UNBIND);
    OFF(ioctl_evtchn_notify, port);
    SIZE(ioctl_evtchn_notify);
    NUM(IOCTL_EVTCHN_NOTIFY);
    NUM(IOCTL_EVTCHN_RESET);
    printf("sizeof.evtchn_port %zu\n", sizeof(evtchn_port_t));

    TOFF(privcmd_mmapbatch_v2_t, num);
    TOFF(privcmd_mmapbatch_v2_t, dom);
    TOFF(privcmd_mmapbatch_v2_t, addr);
    TOFF(privcmd_mmapbatch_v2_t, arr);
    TOFF(privcmd_mmapbatch_v2_t, err);
    TSIZE(privcmd_mmapbatch_v2_t);
    NUM(IOCTL_PRIVCMD_MMAPBATCH_V2);
    TSIZE(xen_pfn_t);
    printf("sizeof.privcmd_err %zu\n", sizeof(*((privcmd_mmapbatch_v2_t *)0)->err));
    return 0;
}
