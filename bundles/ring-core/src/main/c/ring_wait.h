/*
 * Notification between the benchmark's peers when they run notification-driven, the way drivers
 * sleep on an event channel: a notify is one byte written to the peer's FIFO; a side with nothing
 * to do (after ring.h's final check) blocks reading its own FIFO, which drains every pending
 * notification at once (a notify sent before the sleep is still in the pipe: nothing is missed).
 * Both FIFOs are opened O_RDWR so neither open blocks. Without FIFOs the peers busy-poll.
 */
#ifndef RING_WAIT_H
#define RING_WAIT_H
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

struct ring_wait {
    int notify_fd;   /* the peer's FIFO, -1 when busy-polling */
    int wait_fd;     /* our FIFO */
    unsigned long notifies, sleeps;
};

static inline int ring_wait_open(struct ring_wait *w, const char *notify_path, const char *wait_path)
{
    w->notifies = w->sleeps = 0;
    w->notify_fd = w->wait_fd = -1;
    if (!notify_path)
        return 0;
    w->notify_fd = open(notify_path, O_RDWR);
    w->wait_fd = open(wait_path, O_RDWR);
    if (w->notify_fd < 0 || w->wait_fd < 0) {
        perror("ring_wait_open");
        return -1;
    }
    return 0;
}

static inline void ring_wait_notify(struct ring_wait *w)
{
    char b = 1;
    w->notifies++;
    if (w->notify_fd >= 0 && write(w->notify_fd, &b, 1) != 1)
        perror("notify");
}

static inline void ring_wait_sleep(struct ring_wait *w)
{
    char buf[64];
    w->sleeps++;
    if (read(w->wait_fd, buf, sizeof(buf)) < 0)
        perror("wait");
}
#endif
