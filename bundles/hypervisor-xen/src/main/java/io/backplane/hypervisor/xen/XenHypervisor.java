package io.backplane.hypervisor.xen;

import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.hypervisor.DomainInfo;
import io.backplane.api.hypervisor.DomainListener;
import io.backplane.api.hypervisor.Domains;
import io.backplane.api.hypervisor.EventChannel;
import io.backplane.api.hypervisor.EventChannels;
import io.backplane.api.hypervisor.EventHandler;
import io.backplane.api.hypervisor.ForeignMemory;
import io.backplane.api.hypervisor.GrantCopy;
import io.backplane.api.hypervisor.GrantMapping;
import io.backplane.api.hypervisor.GrantTables;
import io.backplane.api.hypervisor.MappedRegion;
import io.backplane.api.log.OperatorLog;
import io.backplane.api.xenstore.XenStore;
import io.backplane.nativeio.NativeIo;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;

/**
 * The {@code xen} hypervisor: the SPI over a real dom0's /dev/xen devices, domains read from the
 * real xenstored (docs/xen.md). Disabled until {@link XenDeviceProbe} finds /dev/xen/gntdev, so
 * on a machine that is not a Xen dom0 nothing is registered.
 *
 * <p>DomainListeners hear {@code domainDestroyed} (through {@link DomainWatcher}) when xenstored fires {@code @releaseDomain}
 * and a domain's {@code /local/domain/<domid>} is gone; {@code domainShutdown} is not reported
 * (the shutdown state lives in the hypervisor, not in XenStore).
 */
@Component(name = XenHypervisor.NAME, enabled = false, immediate = true,
        service = {Domains.class, GrantTables.class, ForeignMemory.class, EventChannels.class},
        property = "backplane.hypervisor=xen")
public final class XenHypervisor implements Domains, GrantTables, ForeignMemory, EventChannels {
    public static final String NAME = "io.backplane.hypervisor.xen";

    private final List<DomainListener> listeners = new CopyOnWriteArrayList<>();
    private final XenDevices devices;
    private final DomainWatcher watcher;
    private final XenStoreDomains domains;

    @Activate
    public XenHypervisor(@Reference NativeIo io, @Reference XenStore xenStore,
                         @Reference(service = LoggerFactory.class) Logger logger) {
        OperatorLog log = OperatorLog.of(logger::info, logger::warn, logger::error);
        devices = XenDevices.open(io, log);
        try {
            domains = new XenStoreDomains(xenStore);
            watcher = new DomainWatcher(xenStore, () -> listeners, log);
        } catch (RuntimeException e) {
            devices.close();
            throw e;
        }
        log.info("hypervisor xen: /dev/xen/gntdev, evtchn and privcmd open; " + watcher.knownDomains().size()
                + " domain(s) besides dom0 in XenStore");
    }

    @Deactivate
    void deactivate() {
        watcher.close();
        devices.close();
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    public void addDomainListener(DomainListener listener) {
        listeners.add(listener);
    }

    public void removeDomainListener(DomainListener listener) {
        listeners.remove(listener);
    }

    @Override
    public DomainInfo create(DomainConfig config) {
        return domains.create(config);
    }

    @Override
    public void destroy(int domid) {
        domains.destroy(domid);
    }

    @Override
    public List<DomainInfo> list() {
        return domains.list();
    }

    @Override
    public Optional<DomainInfo> info(int domid) {
        return domains.info(domid);
    }

    @Override
    public GrantMapping map(int domid, int[] refs, boolean writable) {
        return devices.grantTables().map(domid, refs, writable);
    }

    @Override
    public void copy(List<GrantCopy> ops, int[] status) {
        devices.grantTables().copy(ops, status);
    }

    @Override
    public MappedRegion map(int domid, long[] frames, boolean writable) {
        return devices.foreignMemory().map(domid, frames, writable);
    }

    @Override
    public EventChannel allocUnbound(int remoteDomid, EventHandler handler) {
        return devices.eventChannels().allocUnbound(remoteDomid, handler);
    }

    @Override
    public EventChannel bindInterdomain(int remoteDomid, int remotePort, EventHandler handler) {
        return devices.eventChannels().bindInterdomain(remoteDomid, remotePort, handler);
    }

    @Override
    public EventChannel bindInterdomainAwaited(int remoteDomid, int remotePort) {
        return devices.eventChannels().bindInterdomainAwaited(remoteDomid, remotePort);
    }
}
