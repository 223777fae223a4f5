package io.backplane.api.xenstore;

import java.util.List;

/**
 * A domain's home in XenStore, {@code /local/domain/<domid>}, and its {@code /vm/<uuid>}, as
 * libxl's {@code libxl__domain_make} writes them: both readable by the domain and owned by dom0,
 * holding {@code name}, {@code domid}, {@code vm} and the {@code device} and {@code control}
 * directories, with the nodes the guest itself writes ({@link #GUEST_WRITABLE}) owned by the
 * domain. The one writer of a home: the sim hypervisor when it creates a domain, the toolstack
 * for a domain no hypervisor made (docs/sim-abi.md, section 5).
 */
public interface DomainHome {

    /** libxl__domain_make's {@code rw_paths}: what a guest writes in its own home. */
    List<String> GUEST_WRITABLE = List.of("control/shutdown", "control/feature-poweroff", "control/feature-reboot",
            "control/feature-suspend", "control/sysrq", "data", "drivers", "feature", "attr", "error");

    /** {@code /local/domain/<domid>}. */
    static String path(int domid) {
        return "/local/domain/" + domid;
    }

    /** Writes the home of {@code domid} named {@code name} and its {@code /vm/<uuid>}; neither may exist yet. */
    static void write(XsOps tx, int domid, String name, String uuid) {
        String dom = path(domid);
        String vm = "/vm/" + uuid;
        List<XsPerm> ro = List.of(XsPerm.none(0), XsPerm.read(domid));
        List<XsPerm> rw = List.of(XsPerm.none(domid));
        mknod(tx, dom, ro);
        mknod(tx, vm, ro);
        tx.write(dom + "/vm", vm);
        tx.write(dom + "/name", name);
        tx.write(dom + "/domid", Integer.toString(domid));
        tx.write(vm + "/uuid", uuid);
        tx.write(vm + "/name", name);
        mknod(tx, dom + "/device", ro);
        mknod(tx, dom + "/control", ro);
        for (String n : GUEST_WRITABLE) {
            mknod(tx, dom + "/" + n, rw);
        }
    }

    /** Removes the home of {@code domid} and the {@code /vm/<uuid>} it names, if they are there. */
    static void remove(XsOps tx, int domid) {
        String dom = path(domid);
        String vm = tx.tryRead(dom + "/vm").filter(v -> v.startsWith("/vm/")).orElse(null);
        if (tx.exists(dom)) {
            tx.rm(dom);
        }
        if (vm != null && tx.exists(vm)) {
            tx.rm(vm);
        }
    }

    /** libxl__xs_mknod: an empty node with the given permissions. */
    private static void mknod(XsOps tx, String path, List<XsPerm> perms) {
        tx.mkdir(path);
        tx.setPerms(path, perms);
    }
}
