package io.backplane.hypervisor.xen;

import io.backplane.hypervisor.xen.abi.GntdevAbi;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.osgi.service.component.ComponentContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;

/**
 * Enables {@link XenHypervisor} only on a Xen dom0 (when /dev/xen/gntdev exists), so that this
 * bundle on any other machine logs one line and registers nothing, instead of a component that
 * fails to activate.
 */
@Component(immediate = true, service = {})
public final class XenDeviceProbe {

    @Activate
    public XenDeviceProbe(@Reference(service = LoggerFactory.class) Logger logger, ComponentContext context) {
        if (!Files.exists(Path.of(GntdevAbi.DEVICE))) {
            logger.warn("hypervisor xen: " + GntdevAbi.DEVICE + " does not exist (not a Xen dom0, or the xen-gntdev "
                    + "module is not loaded): registering no hypervisor services");
            return;
        }
        List<String> missing = XenDevices.missingDevices();
        if (!missing.isEmpty()) {
            logger.warn("hypervisor xen: " + String.join(", ", missing) + " missing (load xen-evtchn / xen-privcmd);"
                    + " the xen hypervisor will fail to start");
        }
        context.enableComponent(XenHypervisor.NAME);
    }
}
