package io.backplane.backend;

import io.backplane.api.device.Negotiation;
import io.backplane.api.device.NegotiationListener;
import org.osgi.service.component.annotations.Component;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The backend core's {@link NegotiationListener}, as a component of its own with no references:
 * the policy binds its listeners while it activates, and the core needs the policy to activate,
 * so a core that were itself the listener would make a service cycle.
 */
@Component(service = {NegotiationListener.class, NegotiationRelay.class})
public class NegotiationRelay implements NegotiationListener {

    private final List<Consumer<Negotiation>> subscribers = new CopyOnWriteArrayList<>();

    void subscribe(Consumer<Negotiation> subscriber) {
        subscribers.add(subscriber);
    }

    void unsubscribe(Consumer<Negotiation> subscriber) {
        subscribers.remove(subscriber);
    }

    @Override
    public void offerChanged(Negotiation negotiation) {
        subscribers.forEach(s -> s.accept(negotiation));
    }
}
