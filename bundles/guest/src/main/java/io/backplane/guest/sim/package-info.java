/**
 * The guest side of the sim hypervisor: what a guest process uses to attach to its domain
 * ({@link io.backplane.guest.sim.SimGuest}). Frontend simulators build on it.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package io.backplane.guest.sim;
