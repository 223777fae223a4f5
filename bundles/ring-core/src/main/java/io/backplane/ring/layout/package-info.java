/**
 * Xen wire layouts, one descriptor class per structure (in the manner of Agrona's
 * {@code RingBufferDescriptor}): byte offsets, sizes and the protocol's constants, taken from
 * {@code /usr/include/xen/io/ring.h, netif.h, blkif.h, xs_wire.h, xenbus.h} and
 * {@code /usr/include/xen/grant_table.h}. All multi-byte fields are little-endian (x86).
 * A test compiled with gcc against those headers checks every number here.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.2.0")
package io.backplane.ring.layout;
