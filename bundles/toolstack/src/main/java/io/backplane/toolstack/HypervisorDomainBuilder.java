package io.backplane.toolstack;

import io.backplane.api.hypervisor.Domains;
import io.backplane.api.hypervisor.HypervisorException;
import io.backplane.toolstack.config.DomainConfig;

import java.util.function.IntPredicate;

/** Domains made by the hypervisor SPI: it allocates the id, memory and grant table, and introduces the domain. */
final class HypervisorDomainBuilder implements DomainBuilder {

    private final Domains domains;

    HypervisorDomainBuilder(Domains domains) {
        this.domains = domains;
    }

    @Override
    public Built build(DomainConfig config, IntPredicate taken) {
        try {
            var info = domains.create(io.backplane.api.hypervisor.DomainConfig.ofMiB(config.name(), config.memoryMiB()));
            return new Built(info.domid(), true);
        } catch (HypervisorException e) {
            throw new ToolstackException("the hypervisor refused domain " + config.name() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public boolean running(int domid) {
        return domains.info(domid).map(i -> i.state() == io.backplane.api.hypervisor.DomainState.RUNNING).orElse(false);
    }

    @Override
    public void destroy(int domid) {
        if (domains.info(domid).isPresent()) {
            domains.destroy(domid);
        }
    }
}
