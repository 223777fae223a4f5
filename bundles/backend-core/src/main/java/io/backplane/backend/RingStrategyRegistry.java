package io.backplane.backend;

import io.backplane.api.ring.PreparedRing;
import io.backplane.api.ring.RingChannel;
import io.backplane.api.ring.RingException;
import io.backplane.api.ring.RingRequest;
import io.backplane.api.ring.RingStrategies;
import io.backplane.api.ring.RingStrategy;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Every registered {@link RingStrategy}, ranked per ring: the highest fitness wins, ties go to
 * the higher {@code service.ranking}, then to the older service. Strategy bundles come and go at
 * runtime: a new one is told to the {@link #subscribe subscribers} (hot deploy); one going away
 * is first taken out of the ranking, then told to the {@link #subscribeRemovals removal
 * subscribers}, which move the rings it serves while its service is still being unregistered
 * (DS calls {@link #removeStrategy} synchronously then, before the bundle's classes go).
 */
@Component(service = {RingStrategies.class, RingStrategyRegistry.class})
public class RingStrategyRegistry implements RingStrategies {

    /** One registered strategy with what ranks it. */
    public record Registered(RingStrategy strategy, String name, int ranking, long serviceId) {
    }

    private record Fit(Registered registered, int fitness) {
    }

    private final List<Registered> strategies = new CopyOnWriteArrayList<>();
    private final List<Consumer<String>> listeners = new CopyOnWriteArrayList<>();
    private final List<Consumer<String>> removalListeners = new CopyOnWriteArrayList<>();
    /** The framework, to tell a bundle stopped alone from the whole runtime stopping; null outside OSGi. */
    private volatile Bundle systemBundle;

    @Activate
    void activate(BundleContext context) {
        systemBundle = context.getBundle(Constants.SYSTEM_BUNDLE_ID);
    }

    /** Tells {@code listener} the name of each strategy registered from now on, once it can be opened. */
    public void subscribe(Consumer<String> listener) {
        listeners.add(listener);
    }

    public void unsubscribe(Consumer<String> listener) {
        listeners.remove(listener);
    }

    /**
     * Tells {@code listener} the name of each strategy going away from now on, after it left the
     * ranking and before its unregistration completes: the listener moves the rings it serves
     * (bounded in time: it holds up the bundle's stop). Not called while the runtime stops.
     */
    public void subscribeRemovals(Consumer<String> listener) {
        removalListeners.add(listener);
    }

    public void unsubscribeRemovals(Consumer<String> listener) {
        removalListeners.remove(listener);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    public void addStrategy(RingStrategy strategy, Map<String, Object> props) {
        Object name = props.get(RingStrategy.NAME);
        strategies.add(new Registered(strategy, name instanceof String s ? s : strategy.name(),
                props.get("service.ranking") instanceof Integer r ? r : 0,
                props.get("service.id") instanceof Long id ? id : Long.MAX_VALUE));
        String added = strategies.get(strategies.size() - 1).name();
        for (Consumer<String> l : listeners) {
            try {
                l.accept(added);
            } catch (RuntimeException e) {
                // a listener's failure is its own; the strategy stays registered
            }
        }
    }

    public void removeStrategy(RingStrategy strategy) {
        Registered gone = strategies.stream().filter(r -> r.strategy() == strategy).findFirst().orElse(null);
        if (gone == null || !strategies.remove(gone)) {
            return;
        }
        Bundle framework = systemBundle;
        if (framework != null && framework.getState() == Bundle.STOPPING) {
            return; // the runtime stops: every device closes with its backend, no point moving it first
        }
        for (Consumer<String> l : removalListeners) {
            try {
                l.accept(gone.name());
            } catch (RuntimeException e) {
                // a listener's failure is its own; the strategy is gone all the same
            }
        }
    }

    /** The registered strategies, best ranked first (for pv:strategies). */
    public List<Registered> registered() {
        List<Registered> all = new ArrayList<>(strategies);
        all.sort(Comparator.comparingInt(Registered::ranking).reversed().thenComparingLong(Registered::serviceId));
        return all;
    }

    @Override
    public RingChannel open(RingRequest request) {
        List<Fit> fits = ranked(request);
        if (fits.isEmpty() || fits.get(0).fitness() < 0) {
            throw new NoFittingStrategyException("no ring strategy can serve the " + request.protocol() + " ring of domain "
                    + request.frontendDomid() + " (" + (strategies.isEmpty() ? "none is registered"
                    : "registered: " + fits.stream().map(f -> f.registered().name() + " fitness " + f.fitness())
                    .collect(Collectors.joining(", "))) + ")");
        }
        return fits.get(0).registered().strategy().open(request);
    }

    @Override
    public RingChannel open(RingRequest request, String strategy) {
        return fitting(request, strategy).open(request);
    }

    @Override
    public PreparedRing prepare(RingRequest request, String strategy, Path grantRecord) {
        return fitting(request, strategy).prepare(request, grantRecord);
    }

    @Override
    public RingChannel open(RingRequest request, String strategy, PreparedRing prepared) {
        RingStrategy fitting;
        try {
            fitting = fitting(request, strategy);
        } catch (RuntimeException e) {
            prepared.close();
            throw e;
        }
        return fitting.open(request, prepared);
    }

    /** The strategy named {@code strategy}, when registered and able to serve {@code request}. */
    private RingStrategy fitting(RingRequest request, String strategy) {
        Registered r = strategies.stream().filter(s -> s.name().equals(strategy)).findFirst()
                .orElseThrow(() -> new RingException("no ring strategy named '" + strategy + "' (registered: "
                        + registered().stream().map(Registered::name).collect(Collectors.joining(", ")) + ")"));
        int fitness = r.strategy().fitness(request);
        if (fitness < 0) {
            throw new RingException("ring strategy " + strategy + " cannot serve the " + request.protocol()
                    + " ring of domain " + request.frontendDomid() + " with features " + request.features());
        }
        return r.strategy();
    }

    @Override
    public List<String> rank(RingRequest request) {
        return ranked(request).stream().filter(f -> f.fitness() >= 0).map(f -> f.registered().name()).toList();
    }

    private List<Fit> ranked(RingRequest request) {
        List<Fit> fits = new ArrayList<>();
        for (Registered r : registered()) {
            int fitness;
            try {
                fitness = r.strategy().fitness(request);
            } catch (RuntimeException e) {
                fitness = -1; // a broken strategy serves nothing rather than failing every device
            }
            fits.add(new Fit(r, fitness));
        }
        // Stable sort: equal fitness keeps the ranking order of registered().
        fits.sort(Comparator.comparingInt(Fit::fitness).reversed());
        return fits;
    }
}
