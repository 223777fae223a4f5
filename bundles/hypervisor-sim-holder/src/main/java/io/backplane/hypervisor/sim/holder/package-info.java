/**
 * The hand-over point between a hypervisor-sim bundle and its updated successor
 * ({@link io.backplane.hypervisor.sim.holder.SimHypervisorHolder}). Typed with the API and the JDK
 * only, so it never needs to change when the sim bundle does.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package io.backplane.hypervisor.sim.holder;
