package io.backplane.toolstack;

import io.backplane.api.xenstore.XsOps;
import io.backplane.api.xenstore.XsPerm;
import io.backplane.toolstack.config.DomainConfig;

import java.util.List;

/**
 * The domain's own XenStore entries, the subset of libxl__domain_make and libxl__build_post a PV
 * guest's drivers rely on: {@code /local/domain/<id>} readable by the guest, its {@code device}
 * and {@code control} directories, the guest-writable {@code data}, {@code drivers},
 * {@code feature}, {@code attr}, {@code error} and {@code control/shutdown}, memory and vCPUs,
 * and {@code /vm/<uuid>}.
 */
final class DomainEntries {

    private DomainEntries() {
    }

    /** The whole home of a domain no hypervisor introduced (libxl__domain_make, then {@link #buildPost}). */
    static void write(XsOps tx, int domid, DomainConfig c, String uuid) {
        String dom = "/local/domain/" + domid;
        String vm = "/vm/" + uuid;
        List<XsPerm> ro = List.of(XsPerm.none(0), XsPerm.read(domid));
        List<XsPerm> rw = List.of(XsPerm.none(domid));

        mknod(tx, dom, ro);
        mknod(tx, vm, ro);
        tx.write(dom + "/vm", vm);
        tx.write(dom + "/name", c.name());
        tx.write(dom + "/domid", Integer.toString(domid));
        tx.write(vm + "/uuid", uuid);
        tx.write(vm + "/name", c.name());
        mknod(tx, dom + "/device", ro);
        mknod(tx, dom + "/control", ro);
        for (String n : List.of("control/shutdown", "control/feature-poweroff", "control/feature-reboot",
                "control/feature-suspend", "control/sysrq", "data", "drivers", "feature", "attr", "error")) {
            mknod(tx, dom + "/" + n, rw);
        }
        buildPost(tx, domid, c);
    }

    /**
     * What libxl adds once the domain is built (libxl__build_post), also when the hypervisor
     * wrote the home: memory, vCPUs, and the platform features a PV kernel looks for.
     */
    static void buildPost(XsOps tx, int domid, DomainConfig c) {
        String dom = "/local/domain/" + domid;
        tx.write(dom + "/control/platform-feature-multiprocessor-suspend", "1");
        tx.write(dom + "/control/platform-feature-xs_reset_watches", "1");
        long kib = c.memoryMiB() * 1024;
        tx.write(dom + "/memory/static-max", Long.toString(kib));
        tx.write(dom + "/memory/target", Long.toString(kib));
        for (int i = 0; i < c.vcpus(); i++) {
            tx.write(dom + "/cpu/" + i + "/availability", "online");
        }
    }

    /** libxl__xs_mknod: an empty node with the given permissions. */
    private static void mknod(XsOps tx, String path, List<XsPerm> perms) {
        tx.mkdir(path);
        tx.setPerms(path, perms);
    }

    static void remove(XsOps tx, int domid, String vmPath) {
        DeviceWriter.rmIfThere(tx, "/local/domain/" + domid);
        if (vmPath != null && vmPath.startsWith("/vm/")) {
            DeviceWriter.rmIfThere(tx, vmPath);
            DeviceWriter.pruneEmpty(tx, "/vm", "");
        }
    }
}
