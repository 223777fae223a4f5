package io.backplane.hypervisor.xen;

import io.backplane.api.hypervisor.EventChannels;
import io.backplane.api.hypervisor.ForeignMemory;
import io.backplane.api.hypervisor.GrantTables;
import io.backplane.api.log.OperatorLog;
import io.backplane.hypervisor.xen.abi.EvtchnAbi;
import io.backplane.hypervisor.xen.abi.GntdevAbi;
import io.backplane.hypervisor.xen.abi.PrivcmdAbi;
import io.backplane.nativeio.NativeIo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * dom0's three Xen devices opened together: gntdev ({@link GrantTables}), evtchn
 * ({@link EventChannels}, with its delivery thread) and privcmd ({@link ForeignMemory}). The DS
 * component uses it; outside OSGi (tools, the xen-rig check) {@link #open} builds one.
 */
public final class XenDevices implements AutoCloseable {
    private final XenGrantTables grants;
    private final XenEventChannels events;
    private final XenForeignMemory foreign;

    private XenDevices(XenGrantTables grants, XenEventChannels events, XenForeignMemory foreign) {
        this.grants = grants;
        this.events = events;
        this.foreign = foreign;
    }

    /** The device nodes that are missing here (empty on a working dom0). */
    public static List<String> missingDevices() {
        List<String> missing = new ArrayList<>();
        for (String dev : List.of(GntdevAbi.DEVICE, EvtchnAbi.DEVICE, PrivcmdAbi.DEVICE)) {
            if (!Files.exists(Path.of(dev))) {
                missing.add(dev);
            }
        }
        return missing;
    }

    /**
     * Opens the three devices; {@code log} hears about event delivery problems. Fails with
     * {@link io.backplane.nativeio.NativeException} naming the device that could not be opened.
     */
    public static XenDevices open(NativeIo io, OperatorLog log) {
        XenGrantTables grants = new XenGrantTables(io);
        XenForeignMemory foreign = null;
        try {
            foreign = new XenForeignMemory(io);
            return new XenDevices(grants, new XenEventChannels(io, log), foreign);
        } catch (RuntimeException e) {
            if (foreign != null) {
                foreign.close();
            }
            grants.close();
            throw e;
        }
    }

    public GrantTables grantTables() {
        return grants;
    }

    public EventChannels eventChannels() {
        return events;
    }

    public ForeignMemory foreignMemory() {
        return foreign;
    }

    /** Stops event delivery and closes the devices (the kernel then drops every mapping and port left). */
    @Override
    public void close() {
        try {
            events.close();
        } finally {
            try {
                foreign.close();
            } finally {
                grants.close();
            }
        }
    }
}
