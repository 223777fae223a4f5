/**
 * Log hygiene shared by every bundle that logs what guests and clients do: lines about one
 * misbehaving source are rate-limited, and what was held back is counted in the next line.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package io.backplane.api.log;
