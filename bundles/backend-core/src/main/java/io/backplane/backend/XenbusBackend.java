package io.backplane.backend;

import io.backplane.api.backend.BackendDriver;
import io.backplane.api.backend.StrategySwap;
import io.backplane.api.device.DeviceId;
import io.backplane.api.device.Negotiation;
import io.backplane.api.device.NegotiationPolicy;
import io.backplane.api.xenstore.XenStore;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;
import org.osgi.service.metatype.annotations.Designate;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
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

    private final BackendBus bus;
    private final NegotiationRelay relay;
    private final Consumer<Negotiation> offers;
    private final RingStrategyRegistry strategies;
    private final Consumer<String> strategyAdded;

    @Activate
    public XenbusBackend(@Reference XenStore xenStore, @Reference NegotiationPolicy policy,
                         @Reference(service = LoggerFactory.class) Logger logger, @Reference NegotiationRelay relay,
                         @Reference RingStrategyRegistry strategies, BackendConfig config) {
        this.bus = new BackendBus(xenStore, policy, new OperatorLog() {
            @Override
            public void info(String line) {
                logger.info(line);
            }

            @Override
            public void warn(String line) {
                logger.warn(line);
            }

            @Override
            public void error(String line, Throwable cause) {
                if (cause == null) {
                    logger.error(line);
                } else {
                    logger.error(line, cause);
                }
            }
        }, new BackendBus.Options(config.backendDomid(), config.writeHotplugStatus()));
        this.relay = relay;
        this.offers = bus::offerChanged;
        relay.subscribe(offers);
        this.strategies = strategies;
        boolean autoSwap = config.autoSwap();
        this.strategyAdded = name -> bus.strategyAdded(name, strategies, autoSwap);
        strategies.subscribe(strategyAdded);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addDriver(BackendDriver driver) {
        bus.addDriver(driver);
    }

    void removeDriver(BackendDriver driver) {
        bus.removeDriver(driver);
    }

    @Deactivate
    void deactivate() {
        relay.unsubscribe(offers);
        strategies.unsubscribe(strategyAdded);
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
