/**
 * A XenStore client over xs_wire on a xenstored Unix socket ({@link io.backplane.xs.client.SocketXenStore}),
 * and the watch bookkeeping every client shares. Plain Java over the API: guests use it as dom0 does.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package io.backplane.xs.client;
