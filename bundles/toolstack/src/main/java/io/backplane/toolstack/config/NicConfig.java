package io.backplane.toolstack.config;

import java.util.Map;
import java.util.Optional;

/**
 * One network interface, as libxl_device_nic holds it after xl's defaults.
 *
 * @param devid    the vif's handle; -1 to take the next free one
 * @param mac      {@code 00:16:3e:..} form, empty to generate one in Xen's OUI
 * @param rate     libxl's {@code "bytes,usecs"} backend form, empty for unlimited
 * @param features requested features, name (key or alias) to value, in config order
 * @param line     where it was configured (for messages), 0 when not from a file
 */
public record NicConfig(int devid, Optional<String> mac, String bridge, String script, Optional<String> ip,
                        Optional<String> rate, String type, Optional<Integer> mtu, int backendDomid,
                        Map<String, String> features, int line) {

    public NicConfig {
        features = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(features));
    }

    public NicConfig withDevid(int id) {
        return new NicConfig(id, mac, bridge, script, ip, rate, type, mtu, backendDomid, features, line);
    }

    public NicConfig withMac(String m) {
        return new NicConfig(devid, Optional.of(m), bridge, script, ip, rate, type, mtu, backendDomid, features, line);
    }
}
