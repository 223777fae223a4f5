/*
 * A misbehaving guest for Backplane's sim: writes grant entries Xen must refuse, using Xen's own
 * grant_entry_v1_t and GTF_* from <xen/grant_table.h> (through sim_guest.h), and one good entry, then waits until its
 * domain is destroyed (end of file on evtchn.sock).
 *
 *   bogus_grants STATE_DIR DOMID
 *
 * Entries: 8 granted to domain 7, 9 read-only, 10 a frame beyond memory, 11 without
 * GTF_permit_access, 12 sub-page, 13 good (frame 1, writable, holding 0xfeedface at offset 0).
 */
#include "backplane/sim_guest.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bogus_grants STATE_DIR DOMID\n");
        return 2;
    }
    int domid = atoi(argv[2]);
    size_t mem_size, gnt_size;
    uint8_t *memory = sim_map_file(argv[1], domid, SIM_MEMORY, &mem_size);
    grant_entry_v1_t *gnttab = sim_map_file(argv[1], domid, SIM_GRANT_TABLE, &gnt_size);
    uint32_t pages = mem_size / SIM_PAGE_SIZE;

    *(uint32_t *)(memory + SIM_PAGE_SIZE) = 0xfeedface;
    sim_grant(gnttab, 8, 7, 1, GTF_permit_access);
    sim_grant(gnttab, 9, 0, 1, GTF_permit_access | GTF_readonly);
    sim_grant(gnttab, 10, 0, pages + 5, GTF_permit_access);
    sim_grant(gnttab, 11, 0, 1, GTF_invalid);
    sim_grant(gnttab, 12, 0, 1, GTF_permit_access | GTF_sub_page);
    sim_grant(gnttab, 13, 0, 1, GTF_permit_access);

    int fd = sim_evtchn_connect(argv[1], domid);
    printf("READY\n");
    fflush(stdout);
    char buf[16];
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    /* The hypervisor dropped us: report what dom0 left in our grant table. */
    printf("destroyed; entry 13 flags 0x%x, entry 9 flags 0x%x\n", gnttab[13].flags, gnttab[9].flags);
    return 0;
}
