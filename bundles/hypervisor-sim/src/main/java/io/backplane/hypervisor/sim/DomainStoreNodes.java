package io.backplane.hypervisor.sim;

import io.backplane.api.xenstore.DomainHome;
import io.backplane.api.xenstore.XenStore;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * A domain's place in XenStore while the sim has it: its home as the API's {@link DomainHome}
 * lays it out, then INTRODUCE, so {@code @introduceDomain} fires and the domain's xenstore socket
 * appears; at destruction RELEASE and the home removed.
 */
final class DomainStoreNodes {
    private final XenStore xs;

    DomainStoreNodes(XenStore xs) {
        this.xs = xs;
    }

    void introduce(int domid, String name) {
        String uuid = UUID.nameUUIDFromBytes(("backplane-sim-" + domid + "-" + name).getBytes(StandardCharsets.UTF_8))
                .toString();
        xs.transaction(tx -> {
            DomainHome.remove(tx, domid); // left over from an earlier domain with this id
            DomainHome.write(tx, domid, name, uuid);
            return null;
        });
        // The sim's guests reach XenStore through their socket: no store ring page or port.
        xs.introduceDomain(domid, 0, 0);
    }

    void release(int domid) {
        xs.releaseDomain(domid);
        xs.transaction(tx -> {
            DomainHome.remove(tx, domid);
            return null;
        });
    }
}
