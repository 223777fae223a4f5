package io.backplane.hypervisor.xen;

import io.backplane.api.hypervisor.DomainInfo;
import io.backplane.api.hypervisor.DomainListener;
import io.backplane.api.log.OperatorLog;
import io.backplane.api.xenstore.XenStore;
import io.backplane.api.xenstore.XsWatch;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Tells DomainListeners that a domain is gone. xenstored fires {@code @releaseDomain} when a
 * domain dies, after libxl has removed its {@code /local/domain/<domid>}; the watcher then lists
 * the domains again and reports each one it knew that is no longer there. {@code @introduceDomain}
 * keeps the known set current. Watch events arrive one at a time on the store's event thread.
 */
final class DomainWatcher implements AutoCloseable {
    private final XenStore store;
    private final Supplier<List<DomainListener>> listeners;
    private final OperatorLog log;
    private final Set<Integer> known = new HashSet<>();
    private final XsWatch introduce;
    private final XsWatch release;

    DomainWatcher(XenStore store, Supplier<List<DomainListener>> listeners, OperatorLog log) {
        this.store = store;
        this.listeners = listeners;
        this.log = log;
        refresh();
        this.introduce = store.watch("@introduceDomain", "backplane-xen-introduce", (path, token) -> refresh());
        XsWatch r;
        try {
            r = store.watch("@releaseDomain", "backplane-xen-release", (path, token) -> refresh());
        } catch (RuntimeException e) {
            introduce.close();
            throw e;
        }
        this.release = r;
    }

    private synchronized void refresh() {
        // The listing and each domain's node in one transaction (re-run on EAGAIN), as of one
        // moment: a listing taken before a domain appeared, read on after another one went, once
        // reported that one gone without ever learning the new one, whose end then went unseen.
        Set<Integer> now = store.transaction(tx -> {
            Set<Integer> ids = new HashSet<>();
            for (DomainInfo d : new XenStoreDomains(tx).list()) {
                ids.add(d.domid());
            }
            return ids;
        });
        for (Integer domid : known) {
            if (!now.contains(domid)) {
                log.info("hypervisor xen: domain " + domid + " is gone");
                for (DomainListener listener : listeners.get()) {
                    try {
                        listener.domainDestroyed(domid);
                    } catch (RuntimeException e) {
                        log.warn("domain listener failed on domain " + domid + ": " + e);
                    }
                }
            }
        }
        known.clear();
        known.addAll(now);
    }

    /** Domains known now (besides dom0). */
    synchronized Set<Integer> knownDomains() {
        return Set.copyOf(known);
    }

    @Override
    public void close() {
        introduce.close();
        release.close();
    }
}
