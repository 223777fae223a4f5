package io.backplane.toolstack;

import io.backplane.api.xenstore.DomainHome;
import io.backplane.api.xenstore.XsOps;
import io.backplane.toolstack.config.DomainConfig;

/**
 * What libxl adds to a domain's home once the domain is built ({@code libxl__build_post}), the
 * part of it a PV guest's drivers rely on: memory, vCPUs, the platform features a PV kernel looks
 * for. The home itself is the API's {@link DomainHome} (written by the hypervisor that made the
 * domain, or by the toolstack for a domain no hypervisor made).
 */
final class DomainEntries {

    private DomainEntries() {
    }

    /** libxl__build_post's entries, in the home whoever wrote it. */
    static void buildPost(XsOps tx, int domid, DomainConfig c) {
        String dom = DomainHome.path(domid);
        tx.write(dom + "/control/platform-feature-multiprocessor-suspend", "1");
        tx.write(dom + "/control/platform-feature-xs_reset_watches", "1");
        long kib = c.memoryMiB() * 1024;
        tx.write(dom + "/memory/static-max", Long.toString(kib));
        tx.write(dom + "/memory/target", Long.toString(kib));
        for (int i = 0; i < c.vcpus(); i++) {
            tx.write(dom + "/cpu/" + i + "/availability", "online");
        }
    }
}
