package io.backplane.toolstack.config;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Checks across a domain's devices: ids and MACs unique, vif handles numbered as libxl does. */
public final class DomainDevices {

    private DomainDevices() {
    }

    static void check(String source, List<NicConfig> nics, List<DiskConfig> disks) {
        Map<Integer, DiskConfig> byDevid = new HashMap<>();
        for (DiskConfig d : disks) {
            DiskConfig other = byDevid.putIfAbsent(d.devid(), d);
            if (other != null) {
                throw new ConfigException(source, d.line(), "disk " + d.vdev() + " uses the same device number "
                        + d.devid() + " as " + other.vdev());
            }
        }
        Set<String> macs = new HashSet<>();
        Set<Integer> ids = new HashSet<>();
        for (NicConfig n : nics) {
            if (n.mac().isPresent() && !macs.add(n.mac().get())) {
                throw new ConfigException(source, n.line(), "mac " + n.mac().get() + " is given to two vifs");
            }
            if (n.devid() >= 0 && !ids.add(n.devid())) {
                throw new ConfigException(source, n.line(), "devid " + n.devid() + " is given to two vifs");
            }
        }
    }

    /** libxl__device_nic_set_devids: vifs without a devid get the ones after the highest given. */
    static List<NicConfig> numberNics(List<NicConfig> nics) {
        int last = nics.stream().mapToInt(NicConfig::devid).max().orElse(-1);
        List<NicConfig> out = new ArrayList<>();
        for (NicConfig n : nics) {
            out.add(n.devid() >= 0 ? n : n.withDevid(++last));
        }
        return out;
    }
}
