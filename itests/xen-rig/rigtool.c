/*
 * rigtool: the few things busybox cannot do for the real-Xen rig (itests/xen-rig/run.sh).
 * Built static on the host, runs in dom0 and in the guest.
 *
 *   rigtool now                          monotonic clock in milliseconds (busybox date has no %N)
 *   rigtool clock                        the wall clock as HH:MM:SS.mmm (UTC), as Backplane's log
 *                                        stamps its lines
 *   rigtool udp-send HOST PORT COUNT     COUNT datagrams of 1200 bytes, 2 ms apart, each carrying
 *                                        its sequence number and a checksum of its payload
 *   rigtool udp-recv PORT COUNT SECONDS  receives until COUNT distinct valid datagrams or SECONDS
 *                                        passed; prints "valid=K bad=B dup=D of COUNT"; exit 0
 *                                        only when all COUNT arrived intact
 *   rigtool hole FILE OFFSET LENGTH      exit 0 and "hole" when [OFFSET, OFFSET+LENGTH) holds no
 *                                        data (SEEK_DATA), else "data at N"
 *   rigtool tcp-sink PORT FILE SECONDS   accepts one TCP connection and writes what it receives to
 *                                        FILE until EOF or SECONDS passed; prints "gap end=T ms=D"
 *                                        (T: this clock, as `rigtool now`) for every wait of over
 *                                        250 ms between two reads, then "bytes=N"
 *   rigtool blk-probe DEV OFFSET STOP    reads 4 KiB O_DIRECT from DEV at OFFSET (rotating over
 *                                        1 MiB), one at a time 20 ms apart, until the file STOP
 *                                        is not empty; prints "stall end=T ms=D" (T as `rigtool
 *                                        now`) for every read that took over 250 ms (the pause
 *                                        the guest's disk saw), then "reads=N errors=E longest=D"
 *   rigtool syscost                      what a clock read and a plain system call cost here (a PV
 *                                        kernel without a vDSO clock makes every clock read a
 *                                        system call): "clock_gettime=N ns getppid=M ns"
 *
 * busybox's nc has no -u, so UDP needs this.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define DGRAM 1200

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t fnv(const unsigned char *p, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * 16777619u;
    }
    return h;
}

/* payload: seq (4) | checksum of the rest (4) | bytes derived from seq */
static void fill(unsigned char *b, uint32_t seq) {
    uint32_t x = seq * 2654435761u + 1;
    for (int i = 8; i < DGRAM; i++) {
        x = x * 1103515245u + 12345u;
        b[i] = (unsigned char) (x >> 16);
    }
    uint32_t c = fnv(b + 8, DGRAM - 8);
    memcpy(b, &seq, 4);
    memcpy(b + 4, &c, 4);
}

static int udp_send(const char *host, int port, int count) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (s < 0 || inet_pton(AF_INET, host, &a.sin_addr) != 1) {
        perror("udp-send");
        return 2;
    }
    unsigned char b[DGRAM];
    for (int i = 0; i < count; i++) {
        fill(b, (uint32_t) i);
        if (sendto(s, b, sizeof b, 0, (struct sockaddr *) &a, sizeof a) != sizeof b) {
            perror("udp-send sendto");
            return 1;
        }
        usleep(2000);
    }
    printf("sent=%d\n", count);
    return 0;
}

static int udp_recv(int port, int count, int seconds) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY)};
    if (s < 0 || bind(s, (struct sockaddr *) &a, sizeof a) != 0) {
        perror("udp-recv bind");
        return 2;
    }
    char *seen = calloc(count, 1);
    int valid = 0, bad = 0, dup = 0;
    long long end = now_ms() + seconds * 1000LL;
    unsigned char b[65536], want[DGRAM];
    while (valid < count) {
        long long left = end - now_ms();
        if (left <= 0) {
            break;
        }
        struct timeval tv = {.tv_sec = left / 1000, .tv_usec = (left % 1000) * 1000};
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ssize_t n = recv(s, b, sizeof b, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        uint32_t seq;
        memcpy(&seq, b, 4);
        if (n != DGRAM || seq >= (uint32_t) count) {
            bad++;
            continue;
        }
        fill(want, seq);
        if (memcmp(b, want, DGRAM) != 0) {
            bad++;
        } else if (seen[seq]) {
            dup++;
        } else {
            seen[seq] = 1;
            valid++;
        }
    }
    printf("valid=%d bad=%d dup=%d of %d\n", valid, bad, dup, count);
    return valid == count && bad == 0 ? 0 : 1;
}

static int hole(const char *file, long long off, long long len) {
    int fd = open(file, O_RDONLY);
    if (fd < 0) {
        perror(file);
        return 2;
    }
    off_t d = lseek(fd, off, SEEK_DATA);
    if ((d < 0 && errno == ENXIO) || (d >= 0 && d >= off + len)) {
        printf("hole\n");
        return 0;
    }
    if (d < 0) {
        perror("SEEK_DATA");
        return 2;
    }
    printf("data at %lld\n", (long long) d);
    return 1;
}

/* a receiving end that times the stalls of a stream (the rig's restarts under a running guest) */
static int tcp_sink(int port, const char *file, int seconds) {
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY)};
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (s < 0 || bind(s, (struct sockaddr *) &a, sizeof a) != 0 || listen(s, 1) != 0) {
        perror("tcp-sink bind");
        return 2;
    }
    FILE *out = fopen(file, "w");
    if (!out) {
        perror(file);
        return 2;
    }
    long long end = now_ms() + seconds * 1000LL;
    struct timeval tv = {.tv_sec = seconds};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int c = accept(s, NULL, NULL);
    if (c < 0) {
        perror("tcp-sink accept");
        return 1;
    }
    static char b[65536];
    long long bytes = 0, last = now_ms();
    while (now_ms() < end) {
        struct timeval left = {.tv_sec = (end - now_ms()) / 1000 + 1};
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &left, sizeof left);
        ssize_t n = recv(c, b, sizeof b, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        long long t = now_ms();
        if (t - last > 250) {
            printf("gap end=%lld ms=%lld\n", t, t - last);
        }
        last = t;
        fwrite(b, 1, (size_t) n, out);
        bytes += n;
    }
    fclose(out);
    printf("bytes=%lld\n", bytes);
    return 0;
}

/* how long the guest's disk answered nothing: one small read at a time, each timed from its issue */
static int blk_probe(const char *dev, long long offset, const char *stop) {
    int fd = open(dev, O_RDONLY | O_DIRECT);
    void *buf;
    if (fd < 0 || posix_memalign(&buf, 4096, 4096) != 0) {
        perror(dev);
        return 2;
    }
    long long reads = 0, errors = 0, longest = 0;
    struct timespec pace = {.tv_nsec = 20 * 1000000L};
    for (;;) {
        if (reads % 25 == 0) {           /* the stop file looked at twice a second */
            struct stat st;
            if (stat(stop, &st) == 0 && st.st_size > 0) break;
        }
        long long t0 = now_ms();
        if (pread(fd, buf, 4096, offset + (reads % 256) * 4096) != 4096) errors++;
        long long t = now_ms();
        reads++;
        if (t - t0 > longest) longest = t - t0;
        if (t - t0 > 250) printf("stall end=%lld ms=%lld\n", t, t - t0);
        nanosleep(&pace, NULL);
    }
    printf("reads=%lld errors=%lld longest=%lld\n", reads, errors, longest);
    return errors ? 1 : 0;
}

/* mean nanoseconds of clock_gettime(CLOCK_MONOTONIC) and of getppid() over 20000 calls each */
static int syscost(void) {
    const int n = 20000;
    struct timespec a, b, t;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < n; i++) clock_gettime(CLOCK_MONOTONIC, &t);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long long clk = ((b.tv_sec - a.tv_sec) * 1000000000LL + b.tv_nsec - a.tv_nsec) / n;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < n; i++) syscall(SYS_getppid);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long long sys = ((b.tv_sec - a.tv_sec) * 1000000000LL + b.tv_nsec - a.tv_nsec) / n;
    printf("clock_gettime=%lld ns getppid=%lld ns\n", clk, sys);
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 2 && !strcmp(argv[1], "now")) {
        printf("%lld\n", now_ms());
        return 0;
    }
    if (argc == 2 && !strcmp(argv[1], "clock")) {
        struct timeval tv;
        struct tm tm;
        gettimeofday(&tv, NULL);
        gmtime_r(&tv.tv_sec, &tm);
        printf("%02d:%02d:%02d.%03ld\n", tm.tm_hour, tm.tm_min, tm.tm_sec, (long) tv.tv_usec / 1000);
        return 0;
    }
    if (argc == 5 && !strcmp(argv[1], "udp-send")) {
        return udp_send(argv[2], atoi(argv[3]), atoi(argv[4]));
    }
    if (argc == 5 && !strcmp(argv[1], "udp-recv")) {
        return udp_recv(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
    }
    if (argc == 5 && !strcmp(argv[1], "hole")) {
        return hole(argv[2], atoll(argv[3]), atoll(argv[4]));
    }
    if (argc == 5 && !strcmp(argv[1], "tcp-sink")) {
        return tcp_sink(atoi(argv[2]), argv[3], atoi(argv[4]));
    }
    if (argc == 5 && !strcmp(argv[1], "blk-probe")) {
        return blk_probe(argv[2], atoll(argv[3]), argv[4]);
    }
    if (argc == 2 && !strcmp(argv[1], "syscost")) {
        return syscost();
    }
    fprintf(stderr, "usage: rigtool now | clock | udp-send HOST PORT COUNT | udp-recv PORT COUNT SECONDS | hole FILE OFF LEN | tcp-sink PORT FILE SECONDS | blk-probe DEV OFFSET STOP | syscost\n");
    return 2;
}
