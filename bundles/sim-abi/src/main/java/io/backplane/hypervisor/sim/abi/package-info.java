/**
 * The sim's ABI as data: where a domain's files and sockets live and the event channel message
 * layout (docs/sim-abi.md is the normative text). Shared by the sim and the guest library so
 * both sides read the same constants.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package io.backplane.hypervisor.sim.abi;
