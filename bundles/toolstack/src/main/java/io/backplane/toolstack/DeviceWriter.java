package io.backplane.toolstack;

import io.backplane.api.backend.XenbusKeys;
import io.backplane.api.device.DeviceId;
import io.backplane.api.device.FeatureControlLayout;
import io.backplane.api.xenstore.XsOps;
import io.backplane.api.xenstore.XsPerm;

import java.util.List;

/**
 * libxl__device_generic_add and its removal counterpart, inside the caller's transaction.
 * Frontend directory {@code (n<domid>,r<backend>)}, read-only frontend keys and the backend
 * directory {@code (n<backend>,r<domid>)}, keys inheriting their directory's permissions; then
 * the feature requests, set to {@code (n<backend>)} so the guest cannot read them.
 */
final class DeviceWriter {

    private DeviceWriter() {
    }

    static void add(XsOps tx, DeviceEntries e) {
        DeviceId d = e.device();
        String fe = d.frontendPath();
        String be = d.backendPath();
        List<XsPerm> backendPerms = List.of(XsPerm.none(d.backendDomid()), XsPerm.read(d.frontendDomid()));

        rmIfThere(tx, fe);
        tx.mkdir(fe);
        tx.setPerms(fe, List.of(XsPerm.none(d.frontendDomid()), XsPerm.read(d.backendDomid())));
        tx.write(fe + "/" + XenbusKeys.BACKEND, be);
        e.frontend().forEach((k, v) -> tx.write(fe + "/" + k, v));
        e.frontendReadOnly().forEach((k, v) -> {
            tx.write(fe + "/" + k, v);
            tx.setPerms(fe + "/" + k, backendPerms);
        });

        ensureBackendParents(tx, d);
        rmIfThere(tx, be);
        tx.mkdir(be);
        tx.setPerms(be, backendPerms);
        tx.write(be + "/" + XenbusKeys.FRONTEND, fe);
        e.backend().forEach((k, v) -> tx.write(be + "/" + k, v));
        List<XsPerm> hidden = List.of(XsPerm.none(d.backendDomid()));
        e.requests().forEach((k, v) -> {
            String key = be + "/" + FeatureControlLayout.requestKey(k);
            tx.write(key, v);
            tx.setPerms(key, hidden);
        });
    }

    /**
     * {@code backend/<type>} and {@code backend/<type>/<domid>} are {@code (n<backend>)} on a real
     * host; they would inherit that from {@code /local/domain/<backend>}, but the store may have
     * been set up by someone else, so a directory created here gets it explicitly.
     */
    private static void ensureBackendParents(XsOps tx, DeviceId d) {
        String base = "/local/domain/" + d.backendDomid() + "/backend";
        for (String dir : List.of(base, base + "/" + d.type(), base + "/" + d.type() + "/" + d.frontendDomid())) {
            if (!tx.exists(dir)) {
                tx.mkdir(dir);
                tx.setPerms(dir, List.of(XsPerm.none(d.backendDomid())));
            }
        }
    }

    /**
     * Removes both directories, as libxl finally does, and the backend directories above that
     * this left empty, so a rolled-back create leaves the store exactly as it found it.
     */
    static void remove(XsOps tx, DeviceId d) {
        rmIfThere(tx, d.frontendPath());
        rmIfThere(tx, d.backendPath());
        String stop = "/local/domain/" + d.backendDomid();
        pruneEmpty(tx, d.backendPath().substring(0, d.backendPath().lastIndexOf('/')), stop);
    }

    /** Removes {@code dir} and its parents, up to (not including) {@code stop}, while they are empty. */
    static void pruneEmpty(XsOps tx, String dir, String stop) {
        while (dir.startsWith(stop + "/") && tx.exists(dir) && tx.directory(dir).isEmpty()) {
            tx.rm(dir);
            dir = dir.substring(0, dir.lastIndexOf('/'));
        }
    }

    /** xs_rm as libxl uses it: a directory that is not there (nor its parent) is fine. */
    static void rmIfThere(XsOps tx, String path) {
        if (tx.exists(path)) {
            tx.rm(path);
        }
    }
}
