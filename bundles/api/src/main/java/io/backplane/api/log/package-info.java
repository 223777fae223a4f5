/**
 * Logging shared by every bundle: the one port a component says what happened through
 * ({@link io.backplane.api.log.OperatorLog}), and the hygiene for lines about what guests and
 * clients do: lines about one misbehaving source are rate-limited, and what was held back is
 * counted in the next line.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.1.0")
package io.backplane.api.log;
