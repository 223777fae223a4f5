/**
 * The hypervisor SPI: what dom0 code asks of Xen, in Xen's vocabulary. Domains
 * ({@link io.backplane.api.hypervisor.Domains}), grant mapping and grant copy
 * ({@link io.backplane.api.hypervisor.GrantTables}, like {@code /dev/xen/gntdev}), privileged
 * foreign memory ({@link io.backplane.api.hypervisor.ForeignMemory}, like
 * {@code /dev/xen/privcmd}) and event channels ({@link io.backplane.api.hypervisor.EventChannels},
 * like {@code /dev/xen/evtchn}).
 *
 * <p>Two implementations register these services: {@code sim} (guests are OS processes sharing
 * memory files, see docs/sim-abi.md) and {@code xen} (the real devices). Code above the SPI must
 * not be able to tell them apart: refusals carry Xen's own GNTST codes and errno names, mapped
 * memory is a direct {@link java.nio.ByteBuffer} over a real mapping.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.3.0")
package io.backplane.api.hypervisor;
