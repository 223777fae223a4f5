/**
 * xs_wire ({@code xen/io/xs_wire.h}): the message header, the XS_* codes, the size limits and the
 * payload encoding, defined once for the daemon and the clients.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package io.backplane.xs.wire;
