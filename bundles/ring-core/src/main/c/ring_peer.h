/*
 * What the ring peer programs (netfront_tx.c, netback_tx.c, the layout peers, netback_cost.c) do
 * alike: map the file that stands in for the granted ring pages, read the clock, and spin while
 * the other side has nothing for them.
 */
#ifndef RING_PEER_H
#define RING_PEER_H
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

static inline double ring_peer_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The shared ring file mapped read-write, or NULL after saying why. */
static inline void *ring_peer_map(const char *path, size_t bytes)
{
    int fd = open(path, O_RDWR);
    if (fd < 0) {
        perror(path);
        return NULL;
    }
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return NULL;
    }
    return p;
}

/*
 * The layout peers' FLAGS argument: ring_layouts.h's flags, optionally "@PAGES" pages per ring
 * direction (1 when absent), for example "2@2" (aligned slots on two pages). 0, or -1 after
 * saying why.
 */
static inline int ring_peer_flags(const char *arg, unsigned int *flags, unsigned int *pages)
{
    char *end;
    *flags = strtoul(arg, &end, 10);
    *pages = *end == '@' ? strtoul(end + 1, &end, 10) : 1;
    if (*end != '\0' || *pages < 1 || *pages > 16) {
        fprintf(stderr, "FLAGS must be N or N@PAGES with 1-16 pages, not %s\n", arg);
        return -1;
    }
    return 0;
}

/*
 * One idle turn of a busy-polling side: a pause, and every 4096th turn a yield so that a peer on
 * the same core runs. Returns nonzero once more than timeout seconds (0: none) passed since start.
 */
static inline int ring_peer_idle(unsigned long *idle, double start, double timeout)
{
    if ((++*idle & 0xfff) == 0) {
        if (timeout > 0 && ring_peer_now() - start > timeout)
            return 1;
        sched_yield();
    }
    __builtin_ia32_pause();
    return 0;
}
#endif
