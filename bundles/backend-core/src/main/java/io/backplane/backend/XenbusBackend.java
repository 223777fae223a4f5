package io.backplane.backend;

import io.backplane.api.backend.BackendDriver;
import io.backplane.api.backend.StrategySwap;
import io.backplane.api.device.DeviceId;
import io.backplane.api.device.Negotiation;
import io.backplane.api.device.NegotiationPolicy;
import io.backplane.api.log.OperatorLog;
import io.backplane.api.xenstore.XenStore;
import io.backplane.nativeio.NativeIo;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.Constants;
import org.osgi.framework.SynchronousBundleListener;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;
import org.osgi.service.metatype.annotations.Designate;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The xenbus backend core as a DS component: serves every {@link BackendDriver} service as it
 * comes and goes, hears the policy's re-negotiations (through {@link NegotiationRelay}), and
 * gives the shell its device list.
 */
@Component(service = DeviceRegistry.class, immediate = true,
        configurationPid = "io.backplane.backend", configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = BackendConfig.class)
public class XenbusBackend implements DeviceRegistry {

    /** How long a strategy's unregistration is held while its devices move off it. */
    static final Duration STRATEGY_LEAVE_TIMEOUT = Duration.ofSeconds(10);

    /** The launcher's framework property naming the runtime's state directory. */
    static final String STATE_DIR_PROPERTY = "backplane.state.dir";

    private final XenStore xenStore;
    /** Where devices keep the files a successor needs; null without a state directory. */
    private final Path stateDir;
    private final NegotiationPolicy policy;
    private final Logger logger;
    private final NegotiationRelay relay;
    private final Consumer<Negotiation> offers;
    private final RingStrategyRegistry strategies;
    private final Consumer<String> strategyAdded;
    private final Consumer<String> strategyRemoved;
    private final List<BackendDriver> drivers = new CopyOnWriteArrayList<>();
    private final BundleContext context;
    private final NativeIo io;
    /** Replaced only when the served backend domain changes (guarded by this). */
    private volatile BackendBus bus;
    private volatile boolean autoSwap;
    /**
     * The runtime is stopping (the system bundle's STOPPING, before any bundle stops): every
     * device is handed over at once, not driver by driver as netback's and blkback's bundles stop.
     */
    private final SynchronousBundleListener runtimeStopping = e -> {
        if (e.getType() == BundleEvent.STOPPING && e.getBundle().getBundleId() == Constants.SYSTEM_BUNDLE_ID) {
            bus.handOverAll("Backplane is stopping");
        }
    };

    @Activate
    public XenbusBackend(@Reference XenStore xenStore, @Reference NegotiationPolicy policy,
                         @Reference(service = LoggerFactory.class) Logger logger, @Reference NegotiationRelay relay,
                         @Reference RingStrategyRegistry strategies, @Reference NativeIo io, BackendConfig config,
                         BundleContext context) {
        String dir = context.getProperty(STATE_DIR_PROPERTY);
        this.stateDir = dir == null || dir.isBlank() ? null : Path.of(dir);
        this.xenStore = xenStore;
        this.policy = policy;
        this.logger = logger;
        this.strategies = strategies;
        this.context = context;
        this.io = io;
        this.bus = newBus(config);
        this.relay = relay;
        this.offers = n -> bus.offerChanged(n);
        relay.subscribe(offers);
        this.autoSwap = config.autoSwap();
        this.strategyAdded = name -> bus.strategyAdded(name, strategies, autoSwap);
        strategies.subscribe(strategyAdded);
        this.strategyRemoved = name -> bus.strategyRemoved(name, STRATEGY_LEAVE_TIMEOUT);
        strategies.subscribeRemovals(strategyRemoved);
        context.addBundleListener(runtimeStopping);
    }

    private BackendBus newBus(BackendConfig config) {
        OperatorLog log = OperatorLog.of(logger::info, logger::warn, logger::error);
        BackendBus created = new BackendBus(xenStore, policy, log, new BackendBus.Options(config.backendDomid(),
                config.writeHotplugStatus(), config.keepDevices(), stateDir));
        created.noRingStrategy(() -> strategies.registered().isEmpty());
        AdoptionClasses classes = new AdoptionClasses(context, log);
        created.adoptionCode(classes::preloadAll);
        created.driverCode(classes::preloadDriver);
        created.niceAllThreads(io::niceAllThreads);
        return created;
    }

    /**
     * A configuration change applies in place: devices stay connected (re-activating would close
     * every device of every guest). Only another backend domain needs a new bus: this domain's
     * devices close (their frontends see Closed) and the other domain's are served.
     */
    @Modified
    synchronized void modified(BackendConfig config) {
        autoSwap = config.autoSwap();
        BackendBus.Options wanted = new BackendBus.Options(config.backendDomid(), config.writeHotplugStatus(),
                config.keepDevices(), stateDir);
        if (wanted.backendDomid() == bus.options().backendDomid()) {
            bus.options(wanted);
            logger.info("backend core: configuration changed in place (write hotplug-status " + wanted.writeHotplugStatus()
                    + ", swap to a fitter strategy " + autoSwap + ", keep devices on stop " + wanted.keepDevices()
                    + "); connected devices are left as they are");
            return;
        }
        logger.info("backend core: now serving backend domain " + wanted.backendDomid() + " instead of "
                + bus.options().backendDomid() + ": closing the devices of the old one");
        BackendBus old = bus;
        // No successor serves the old domain: its devices close even where they would be kept.
        old.options(new BackendBus.Options(old.options().backendDomid(), old.options().writeHotplugStatus(), false, stateDir));
        old.close();
        bus = newBus(config);
        drivers.forEach(bus::addDriver);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    synchronized void addDriver(BackendDriver driver) {
        drivers.add(driver);
        bus.addDriver(driver);
    }

    synchronized void removeDriver(BackendDriver driver) {
        drivers.remove(driver);
        bus.removeDriver(driver);
    }

    @Deactivate
    synchronized void deactivate() {
        try {
            context.removeBundleListener(runtimeStopping);
        } catch (IllegalStateException e) {
            // the bundle's context is already invalid: its listeners are gone with it
        }
        relay.unsubscribe(offers);
        strategies.unsubscribe(strategyAdded);
        strategies.unsubscribeRemovals(strategyRemoved);
        bus.close();
    }

    @Override
    public List<DeviceView> devices() {
        return bus.devices();
    }

    @Override
    public Optional<DeviceView> device(DeviceId id) {
        return bus.device(id);
    }

    @Override
    public Negotiation request(DeviceId id, String feature, String value, Duration timeout) {
        return bus.request(id, feature, value, timeout);
    }

    @Override
    public List<StrategySwap> swapStrategy(DeviceId id, String strategy, Duration timeout) {
        return bus.swapStrategy(id, strategy, timeout);
    }
}
