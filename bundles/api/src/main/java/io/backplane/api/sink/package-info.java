/**
 * The packet-sink SPI: where a network backend delivers the frames a guest sends and takes the
 * frames for the guest from. A TAP device on the host is the real one; an in-memory sink stands
 * in where TAP is not permitted. Backends ask a {@link io.backplane.api.sink.PacketSinkFactory}
 * and never name a sink class.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.4.0")
package io.backplane.api.sink;
