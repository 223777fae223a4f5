/**
 * The XenStore client API: the contract between toolstack, negotiation policy and backends.
 * Implementations talk to the embedded store in-process or speak xs_wire to any xenstored.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.3.0")
package io.backplane.api.xenstore;
