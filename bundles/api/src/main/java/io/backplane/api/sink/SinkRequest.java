package io.backplane.api.sink;

/**
 * What a backend asks of a sink.
 *
 * @param name   the host interface name ({@code vif<domid>.<devid>}, at most 15 characters)
 * @param bridge the bridge to add it to when that bridge exists (the vif's {@code bridge} key); may be empty
 * @param mtu    the interface MTU the backend offers (1500 unless the toolstack wrote {@code mtu})
 */
public record SinkRequest(String name, String bridge, int mtu) {
    public SinkRequest {
        if (name == null || name.isEmpty() || name.length() > 15) {
            throw new IllegalArgumentException("interface name '" + name + "' must have 1 to 15 characters");
        }
        bridge = bridge == null ? "" : bridge;
        if (mtu < 68 || mtu > 65535) {
            throw new IllegalArgumentException("MTU " + mtu + " outside 68..65535");
        }
    }
}
