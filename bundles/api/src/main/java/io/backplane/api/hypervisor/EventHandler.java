package io.backplane.api.hypervisor;

/** Receives the events of one port; see {@link EventChannels} for when it is called. */
@FunctionalInterface
public interface EventHandler {
    void onEvent(EventChannel channel);
}
