/**
 * The netfront simulator: a guest's network frontend following Linux xen-netfront (xenbus state
 * machine, queue and event channel choices, the keys in Linux's order, reconnect after the
 * backend's Closing), with traffic generation, verification and ARP / ICMP echo answers.
 */
package io.backplane.guest.netfront;
