package io.backplane.toolstack;

import io.backplane.api.device.CapabilityRegistry;
import io.backplane.api.device.DeviceId;
import io.backplane.api.device.FeatureDescriptor;
import io.backplane.api.hypervisor.DomainListener;
import io.backplane.api.hypervisor.Domains;
import io.backplane.api.log.OperatorLog;
import io.backplane.api.xenstore.XenStore;
import io.backplane.toolstack.config.ConfigException;
import io.backplane.toolstack.config.ConfigText;
import io.backplane.toolstack.config.DiskSpec;
import io.backplane.toolstack.config.DomainConfig;
import io.backplane.toolstack.config.LibvirtXmlParser;
import io.backplane.toolstack.config.VifSpec;
import io.backplane.toolstack.config.XlConfigParser;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;
import org.osgi.service.metatype.annotations.Designate;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.random.RandomGenerator;

/**
 * The toolstack as a DS component (configuration {@code io.backplane.toolstack}): reads config
 * files, logs what it did to which domain and device, and hands the work to {@link Toolstack}.
 * Feature aliases are turned into Xen keys with the capability registry when one is present.
 */
@Component(service = ToolstackService.class, configurationPid = "io.backplane.toolstack",
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = ToolstackConfig.class)
public class ToolstackService {

    /** Optional: without it feature aliases stay as written. Greedy: a new one is bound before the old goes. */
    private final AtomicReference<CapabilityRegistry> capabilities = new AtomicReference<>();
    /** Optional: without a hypervisor, domains exist in XenStore only. */
    private final AtomicReference<Domains> domains = new AtomicReference<>();
    private final Logger log;
    private final NextFreeDomainBuilder storeOnly = new NextFreeDomainBuilder();
    private final BundleContext context;
    private final Toolstack toolstack;
    private final GuestLauncher guests;
    private final DomainLifecycle lifecycle;
    private org.osgi.framework.ServiceRegistration<DomainListener> lifecycleRegistration;

    @Activate
    public ToolstackService(@Reference XenStore xenStore, @Reference(service = LoggerFactory.class) Logger log,
                            BundleContext context, ToolstackConfig config) {
        this.log = log;
        String state = context.getProperty("backplane.state.dir");
        Path stateDir = state != null ? Path.of(state) : Path.of(System.getProperty("java.io.tmpdir"), "backplane");
        String home = context.getProperty("backplane.home");
        String guestJar = context.getProperty("backplane.guest.jar");
        guests = new GuestLauncher(config.guestCommand(), stateDir, home == null ? null : Path.of(home),
                guestJar == null ? null : Path.of(guestJar), this::guestExited);
        guests.setStartTimeout(guestStartTimeout(config));
        OperatorLog operatorLog = OperatorLog.of(log::info, log::warn, log::error);
        toolstack = new Toolstack(xenStore, new CurrentDomainBuilder(), guests, this::featureKey,
                RandomGenerator.getDefault(), closeTimeout(config), operatorLog);
        toolstack.initDom0();
        this.context = context;
        lifecycle = new DomainLifecycle(toolstack, this::hypervisorInfo, operatorLog);
    }

    /**
     * After construction DS binds the optional hypervisor and registry; only then may the guests
     * a previous toolstack left be taken back (their on_* actions may need the hypervisor).
     */
    @Activate
    void activate() {
        adoptGuests();
        // The hypervisor tells its DomainListener services of shutdowns, as Xen's VIRQ_DOM_EXC.
        lifecycleRegistration = context.registerService(DomainListener.class, lifecycle, null);
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindCapabilities(CapabilityRegistry registry) {
        capabilities.set(registry);
    }

    void unbindCapabilities(CapabilityRegistry registry) {
        capabilities.compareAndSet(registry, null);
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindDomains(Domains hypervisor) {
        domains.set(hypervisor);
    }

    void unbindDomains(Domains hypervisor) {
        domains.compareAndSet(hypervisor, null);
    }

    /** After an update of this bundle: the domains the previous toolstack left running are ours again. */
    private void adoptGuests() {
        for (GuestLauncher.Adopted a : guests.adopt()) {
            DomainConfig config = null;
            try {
                config = a.config().isEmpty() ? null : read(Path.of(a.config()));
            } catch (RuntimeException e) {
                log.warn("Domain {} ({}): its config {} no longer reads ({}); on_poweroff/on_reboot/on_crash cannot restart it",
                        a.domid(), a.name(), a.config(), e.getMessage());
            }
            boolean ours = config != null && toolstack.adopt(a.domid(), a.name(), config, a.config());
            if (a.running()) {
                log.info(ours ? "Domain {} ({}) taken over from the previous toolstack, guest process {} still running"
                        : "Domain {} ({}): guest process {} watched again; its lifecycle actions need its config",
                        a.domid(), a.name(), a.pid());
            } else if (ours) {
                // It died while no toolstack watched: what on_crash (or its shutdown reason) says happens now.
                log.info("Domain {} ({}): its guest process {} ended while no toolstack ran", a.domid(), a.name(), a.pid());
                lifecycle.guestExited(a.domid(), -1);
            }
        }
    }

    private void guestExited(int domid, int status) {
        DomainLifecycle l = lifecycle;
        if (l != null) {
            l.guestExited(domid, status);
        }
    }

    private java.util.Optional<io.backplane.api.hypervisor.DomainInfo> hypervisorInfo(int domid) {
        Domains d = domains.get();
        return d == null ? java.util.Optional.empty() : d.info(domid);
    }

    /**
     * A configuration change applies in place: re-activating would stop every guest process the
     * toolstack started (deactivate) and forget the domains it manages, powering off running guests.
     */
    @Modified
    void modified(ToolstackConfig config) {
        guests.setTemplate(config.guestCommand());
        guests.setStartTimeout(guestStartTimeout(config));
        toolstack.setCloseTimeout(closeTimeout(config));
        log.info("Toolstack configuration changed: guests of new domains start with '{}', device removal waits {} s;"
                + " running domains are left as they are", config.guestCommand(), closeTimeout(config).toSeconds());
    }

    private static Duration guestStartTimeout(ToolstackConfig config) {
        return Duration.ofSeconds(Math.max(1, config.guestStartSeconds()));
    }

    private static Duration closeTimeout(ToolstackConfig config) {
        return Duration.ofSeconds(Math.max(1, config.closeTimeoutSeconds()));
    }

    /**
     * When the runtime stops, the guests stop with it. When only this component goes (an update of
     * the bundle, a restart of the component), the guests keep running with their records, and the
     * toolstack that follows takes them back.
     */
    @Deactivate
    void deactivate() {
        // No on_* action while the toolstack goes away.
        lifecycleRegistration.unregister();
        lifecycle.close();
        if (context.getBundle(0).getState() == Bundle.STOPPING) {
            guests.stopAll(); // their domains power off
            return;
        }
        java.util.Set<Integer> left = guests.running();
        guests.release();
        if (!left.isEmpty()) {
            log.info("Toolstack stopping while the runtime runs: the guests of domains {} keep running for the toolstack"
                    + " that follows", left);
        }
    }

    /**
     * The hypervisor when one is registered (sim or xen), else ids only: domains then exist in
     * XenStore alone, which is enough for backends and the policy to do their part.
     */
    private final class CurrentDomainBuilder implements DomainBuilder {
        @Override
        public Built build(DomainConfig config, java.util.function.IntPredicate taken) {
            Domains d = domains.get();
            if (d == null) {
                log.warn("No hypervisor registered: domain {} exists in XenStore only, no guest is started",
                        config.name());
                return storeOnly.build(config, taken);
            }
            return new HypervisorDomainBuilder(d).build(config, taken);
        }

        @Override
        public boolean running(int domid) {
            Domains d = domains.get();
            return d == null || d.info(domid).isEmpty() || new HypervisorDomainBuilder(d).running(domid);
        }

        @Override
        public void destroy(int domid) {
            Domains d = domains.get();
            if (d != null) {
                new HypervisorDomainBuilder(d).destroy(domid);
            }
            storeOnly.destroy(domid);
        }
    }

    private String featureKey(String type, String name) {
        CapabilityRegistry r = capabilities.get();
        return r == null ? name : r.find(type, name).map(FeatureDescriptor::key).orElse(name);
    }

    /** Reads an xl config, or a libvirt domain XML when the file name ends in {@code .xml}. */
    public static DomainConfig read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ConfigException("cannot read " + file + ": " + e.getMessage());
        }
        Path dir = file.toAbsolutePath().getParent();
        String source = file.getFileName().toString();
        String text = ConfigText.decode(source, bytes);
        return source.endsWith(".xml") ? LibvirtXmlParser.parse(source, text, dir)
                : XlConfigParser.parse(source, text, dir);
    }

    public Toolstack.Created create(Path file) {
        DomainConfig c = read(file);
        Toolstack.Created created = toolstack.create(c, file.toAbsolutePath().toString());
        log.info("Domain {} created as domain {} with {}{}", c.name(), created.domid(), created.devices(),
                created.guestPid() > 0 ? ", guest process " + created.guestPid() : "");
        return created;
    }

    public List<Toolstack.DomainInfo> list() {
        return toolstack.list();
    }

    public int destroy(String dom) {
        int domid = toolstack.destroy(dom);
        log.info("Domain {} destroyed", dom);
        return domid;
    }

    public DeviceId networkAttach(String dom, String spec) {
        DeviceId d;
        try {
            d = toolstack.attachNic(dom, VifSpec.parse(spec, 0));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("vif spec '" + spec + "': " + e.getMessage());
        }
        log.info("Device {} attached", d);
        return d;
    }

    public DeviceId networkDetach(String dom, String devidOrMac) {
        DeviceId d = toolstack.detachNic(dom, devidOrMac);
        log.info("Device {} detached", d);
        return d;
    }

    public DeviceId blockAttach(String dom, String spec) {
        DeviceId d;
        try {
            d = toolstack.attachDisk(dom, DiskSpec.parse(spec, 0, null));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("disk spec '" + spec + "': " + e.getMessage());
        }
        log.info("Device {} attached", d);
        return d;
    }

    public DeviceId blockDetach(String dom, String vdev) {
        DeviceId d = toolstack.detachDisk(dom, vdev);
        log.info("Device {} detached", d);
        return d;
    }

    public List<DeviceId> devices(String dom) {
        return toolstack.devices(toolstack.resolve(dom), null);
    }
}
