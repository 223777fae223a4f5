package io.backplane.hypervisor.sim;

/** Where a port's events go: a dom0 handler, or the guest connection that bound the port. */
interface PortSink {
    /** Called once per delivery, the port already masked; must not block for long. */
    void deliver(Port port);
}
