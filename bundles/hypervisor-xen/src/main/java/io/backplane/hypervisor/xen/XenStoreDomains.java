package io.backplane.hypervisor.xen;

import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.hypervisor.DomainInfo;
import io.backplane.api.hypervisor.DomainState;
import io.backplane.api.hypervisor.Domains;
import io.backplane.api.hypervisor.HypervisorException;
import io.backplane.api.xenstore.XsException;
import io.backplane.api.xenstore.XsOps;
import io.backplane.nativeio.Errno;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@link Domains} on a real Xen host, where xl/libxl own the domains' life: what exists is read
 * from XenStore ({@code /local/domain/<domid>}, which libxl writes at create and removes at
 * destroy), and create/destroy are refused rather than done behind the toolstack's back.
 *
 * <p>What XenStore does not hold is reported as unknown: grantFrames is 0, and the state is always
 * RUNNING (a shut-down guest stays listed until xl destroys it). memoryPages is libxl's
 * {@code memory/target} (KiB) in 4 KiB pages, 0 when absent.
 */
final class XenStoreDomains implements Domains {
    static final String LOCAL_DOMAIN = "/local/domain";
    private final XsOps store;

    XenStoreDomains(XsOps store) {
        this.store = store;
    }

    @Override
    public DomainInfo create(DomainConfig config) {
        throw new HypervisorException(Errno.name(Errno.EPERM), "on Xen, domains are created by xl (xl create), not by Backplane: "
                + "cannot create domain " + config.name());
    }

    @Override
    public void destroy(int domid) {
        throw new HypervisorException(Errno.name(Errno.EPERM), "on Xen, domains are destroyed by xl (xl destroy " + domid
                + "), not by Backplane");
    }

    @Override
    public List<DomainInfo> list() {
        List<Integer> ids = new ArrayList<>();
        for (String child : store.directory(LOCAL_DOMAIN)) {
            try {
                int domid = Integer.parseInt(child);
                if (domid > 0) {
                    ids.add(domid);
                }
            } catch (NumberFormatException e) {
                // not a domain directory
            }
        }
        ids.sort(null);
        List<DomainInfo> out = new ArrayList<>();
        for (int domid : ids) {
            info(domid).ifPresent(out::add);
        }
        return out;
    }

    @Override
    public Optional<DomainInfo> info(int domid) {
        String home = LOCAL_DOMAIN + "/" + domid;
        try {
            Optional<String> name = store.tryRead(home + "/name");
            if (name.isEmpty() && !store.exists(home)) {
                return Optional.empty();
            }
            long pages = store.tryRead(home + "/memory/target").map(XenStoreDomains::kibToPages).orElse(0L);
            return Optional.of(new DomainInfo(domid, name.orElse(domid == 0 ? "Domain-0" : ""), pages, 0,
                    DomainState.RUNNING, null));
        } catch (XsException e) {
            throw new HypervisorException(Errno.name(Errno.EIO), "reading domain " + domid + " from XenStore failed: " + e.getMessage(), e);
        }
    }

    private static long kibToPages(String kib) {
        try {
            return Long.parseLong(kib.trim()) / (DomainConfig.PAGE_SIZE / 1024);
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
