/** The host ends of vifs: TAP devices through /dev/net/tun, and the in-memory sink. Private. */
package io.backplane.netback.sink;
