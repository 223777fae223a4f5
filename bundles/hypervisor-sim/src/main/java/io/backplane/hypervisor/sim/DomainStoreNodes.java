package io.backplane.hypervisor.sim;

import io.backplane.api.xenstore.XenStore;
import io.backplane.api.xenstore.XsPerm;
import java.util.List;
import java.util.UUID;

/**
 * A domain's place in XenStore, written as libxl's {@code libxl__domain_make} writes it:
 * {@code /local/domain/<domid>} and {@code /vm/<uuid>} readable by the domain but owned by dom0,
 * and the subdirectories the guest itself writes ({@code control/shutdown}, {@code data},
 * {@code drivers}, {@code feature}, {@code attr}, {@code error}) owned by the domain.
 * Then INTRODUCE, so {@code @introduceDomain} fires and the domain's xenstore socket appears.
 */
final class DomainStoreNodes {
    private static final List<String> GUEST_WRITABLE = List.of(
            "control/shutdown", "control/feature-poweroff", "control/feature-reboot",
            "data", "drivers", "feature", "attr", "error");

    private final XenStore xs;

    DomainStoreNodes(XenStore xs) {
        this.xs = xs;
    }

    void introduce(int domid, String name) {
        String dom = "/local/domain/" + domid;
        String vm = "/vm/" + UUID.nameUUIDFromBytes(("backplane-sim-" + domid + "-" + name).getBytes(
                java.nio.charset.StandardCharsets.UTF_8));
        List<XsPerm> roperm = List.of(XsPerm.none(0), XsPerm.read(domid));
        List<XsPerm> rwperm = List.of(XsPerm.none(domid));
        xs.transaction(tx -> {
            if (tx.exists(dom)) {
                tx.rm(dom); // left over from an earlier domain with this id
            }
            tx.mkdir(dom);
            tx.setPerms(dom, roperm);
            tx.mkdir(vm);
            tx.setPerms(vm, roperm);
            tx.write(vm + "/name", name);
            tx.write(dom + "/vm", vm);
            tx.write(dom + "/name", name);
            tx.write(dom + "/domid", Integer.toString(domid));
            tx.mkdir(dom + "/device");
            tx.mkdir(dom + "/control");
            for (String sub : GUEST_WRITABLE) {
                tx.mkdir(dom + "/" + sub);
                tx.setPerms(dom + "/" + sub, rwperm);
            }
            return null;
        });
        // The sim's guests reach XenStore through their socket: no store ring page or port.
        xs.introduceDomain(domid, 0, 0);
    }

    void release(int domid) {
        String dom = "/local/domain/" + domid;
        String vm = xs.tryRead(dom + "/vm").orElse(null);
        xs.releaseDomain(domid);
        xs.rm(dom);
        if (vm != null && vm.startsWith("/vm/")) {
            xs.rm(vm);
        }
    }
}
