package io.backplane.toolstack.config;

import java.util.Map;

/**
 * One virtual disk, as libxl_device_disk holds it after xl's defaults. Backplane serves raw
 * images through its {@code vbd} backend only (libxl backendtype {@code phy}).
 *
 * @param target   the absolute image path (libxl's pdev_path, written as {@code params})
 * @param vdev     the guest's name for it ({@code xvda})
 * @param devid    {@code vdev} encoded as libxl does (xvda = 51712)
 * @param readWrite false for {@code access=ro}
 * @param cdrom    {@code devtype=cdrom}
 */
public record DiskConfig(String target, String vdev, int devid, boolean readWrite, boolean cdrom,
                         String script, boolean discardEnable, int backendDomid,
                         Map<String, String> features, int line) {

    public DiskConfig {
        features = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(features));
    }
}
