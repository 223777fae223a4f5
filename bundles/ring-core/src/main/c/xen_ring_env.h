/*
 * What Xen's public ring headers expect the includer to provide, for a user-space x86 program:
 * the barriers ring.h names (xen_mb is a full fence; on x86 rmb/wmb only stop the compiler)
 * and the types of xen.h. Include before <xen/io/netif.h> and friends.
 */
#ifndef XEN_RING_ENV_H
#define XEN_RING_ENV_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define xen_mb()  __sync_synchronize()
#define xen_rmb() __asm__ __volatile__("" ::: "memory")
#define xen_wmb() __asm__ __volatile__("" ::: "memory")

#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/io/ring.h>
#include <xen/io/netif.h>
#endif
