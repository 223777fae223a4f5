package io.backplane.api.sink;

/** Opens the host end of a virtual interface; registered as a service by a sink bundle. */
public interface PacketSinkFactory {

    /**
     * Opens the sink for {@code request}. A factory that cannot create the real device (no
     * permission for /dev/net/tun) may fall back to an in-memory sink, saying so in
     * {@link PacketSink#describe()} and in its log; it throws {@link SinkException} otherwise.
     */
    PacketSink open(SinkRequest request);
}
