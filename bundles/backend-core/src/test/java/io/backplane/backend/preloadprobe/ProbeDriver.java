package io.backplane.backend.preloadprobe;

import io.backplane.api.backend.BackendContext;
import io.backplane.api.backend.BackendDevice;
import io.backplane.api.backend.BackendDriver;
import io.backplane.api.backend.DeviceException;

/** The driver of the bundle {@code DriverPreloadOsgiTest} builds: it serves nothing. */
public final class ProbeDriver implements BackendDriver {
    @Override
    public String deviceType() {
        return "vif";
    }

    @Override
    public BackendDevice probe(BackendContext context) {
        throw new DeviceException("the preload probe serves no device");
    }
}
