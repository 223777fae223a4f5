/*
 * A misbehaving guest for Backplane's sim: writes grant entries Xen must refuse, using Xen's own
 * grant_entry_v1_t and GTF_* from <xen/grant_table.h>, and one good entry, then waits until its
 * domain is destroyed (end of file on evtchn.sock).
 *
 *   bogus_grants STATE_DIR DOMID
 *
 * Entries: 8 granted to domain 7, 9 read-only, 10 a frame beyond memory, 11 without
 * GTF_permit_access, 12 sub-page, 13 good (frame 1, writable, holding 0xfeedface at offset 0).
 */
#define _GNU_SOURCE
#define __XEN_TOOLS__ 1
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <xen/xen.h>
#include <xen/grant_table.h>

static void *map_file(const char *dir, int domid, const char *name, size_t *size)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof(path), "%s/domains/%d/%s", dir, domid, name);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        perror(path);
        exit(2);
    }
    void *p = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    close(fd);
    *size = st.st_size;
    return p;
}

static void grant(grant_entry_v1_t *e, uint16_t flags, domid_t domid, uint32_t frame)
{
    e->frame = frame;
    e->domid = domid;
    __atomic_thread_fence(__ATOMIC_RELEASE); /* xen_wmb(): frame and domid before flags */
    e->flags = flags;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bogus_grants STATE_DIR DOMID\n");
        return 2;
    }
    int domid = atoi(argv[2]);
    size_t mem_size, gnt_size;
    uint8_t *memory = map_file(argv[1], domid, "memory", &mem_size);
    grant_entry_v1_t *gnttab = map_file(argv[1], domid, "grant-table", &gnt_size);
    uint32_t pages = mem_size / 4096;

    *(uint32_t *)(memory + 4096) = 0xfeedface;
    grant(&gnttab[8], GTF_permit_access, 7, 1);
    grant(&gnttab[9], GTF_permit_access | GTF_readonly, 0, 1);
    grant(&gnttab[10], GTF_permit_access, 0, pages + 5);
    grant(&gnttab[11], GTF_invalid, 0, 1);
    grant(&gnttab[12], GTF_permit_access | GTF_sub_page, 0, 1);
    grant(&gnttab[13], GTF_permit_access, 0, 1);

    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/domains/%d/evtchn.sock", argv[1], domid);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        perror(addr.sun_path);
        return 2;
    }
    printf("READY\n");
    fflush(stdout);
    char buf[16];
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    /* The hypervisor dropped us: report what dom0 left in our grant table. */
    printf("destroyed; entry 13 flags 0x%x, entry 9 flags 0x%x\n", gnttab[13].flags, gnttab[9].flags);
    return 0;
}
