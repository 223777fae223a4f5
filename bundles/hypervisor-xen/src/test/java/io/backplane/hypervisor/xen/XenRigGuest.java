package io.backplane.hypervisor.xen;

import io.backplane.api.hypervisor.DomainInfo;
import io.backplane.api.hypervisor.EventChannel;
import io.backplane.api.hypervisor.GrantCopy;
import io.backplane.api.hypervisor.GrantMapping;
import io.backplane.api.xenstore.XenStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The cross-domain part of the rig: `xl create` a PV guest whose Linux netfront gets a vif, with
 * this program acting as the backend just far enough (feature-rx-copy, state InitWait) for
 * netfront to grant its rings and allocate its event channel, as it would to netback. Then the
 * real guest's grants are mapped and copied through GrantTables and its port bound through
 * EventChannels; Domains must list the guest and forget it after `xl destroy`.
 */
final class XenRigGuest {
    private static final String NAME = "rigguest";
    private final XenDevices devices;
    private final XenStore store;
    private final XenStoreDomains domains;

    XenRigGuest(XenDevices devices, XenStore store) {
        this.devices = devices;
        this.store = store;
        this.domains = new XenStoreDomains(store);
    }

    /** Returns null when every step held, else what went wrong. */
    String run(String config) throws Exception {
        Process xl = new ProcessBuilder("xl", "create", config).redirectErrorStream(true).start();
        String backend = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (backend == null && xl.isAlive() && System.nanoTime() < deadline) {
            backend = findVifBackend();
            if (backend == null) {
                Thread.sleep(50);
            }
        }
        if (backend == null) {
            return "no backend/vif appeared; xl said: " + output(xl);
        }
        // What netback would write before InitWait; netfront refuses a backend without rx-copy.
        store.write(backend + "/feature-rx-copy", "1");
        store.write(backend + "/state", "2");
        if (!xl.waitFor(120, TimeUnit.SECONDS) || xl.exitValue() != 0) {
            return "xl create failed: " + output(xl);
        }
        String frontend = store.read(backend + "/frontend");
        int domid = Integer.parseInt(store.read(backend + "/frontend-id"));
        System.out.println("XENRIG INFO guest " + domid + " created, frontend " + frontend);
        Optional<DomainInfo> info = domains.info(domid);
        System.out.println("XENRIG INFO Domains.info: " + info.orElse(null));
        if (info.isEmpty() || !NAME.equals(info.get().name())) {
            return "Domains does not show the guest";
        }
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (store.tryRead(frontend + "/rx-ring-ref").isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        if (store.tryRead(frontend + "/rx-ring-ref").isEmpty()) {
            return "netfront never published its rings (frontend state " + store.tryRead(frontend + "/state").orElse("?") + ")";
        }
        int txRef = Integer.parseInt(store.read(frontend + "/tx-ring-ref"));
        int rxRef = Integer.parseInt(store.read(frontend + "/rx-ring-ref"));
        String evKey = store.tryRead(frontend + "/event-channel").isPresent() ? "/event-channel" : "/event-channel-tx";
        int port = Integer.parseInt(store.read(frontend + evKey));
        System.out.println("XENRIG INFO netfront: tx-ring-ref " + txRef + ", rx-ring-ref " + rxRef + ", " + evKey.substring(1) + " " + port);

        String problem = rings(domid, txRef, rxRef, port);
        if (problem != null) {
            return problem;
        }
        Process destroy = new ProcessBuilder("xl", "destroy", String.valueOf(domid)).redirectErrorStream(true).start();
        if (!destroy.waitFor(60, TimeUnit.SECONDS) || destroy.exitValue() != 0) {
            return "xl destroy failed: " + output(destroy);
        }
        Thread.sleep(500);
        return domains.info(domid).isEmpty() ? null : "Domains still shows domain " + domid + " after xl destroy";
    }

    private String rings(int domid, int txRef, int rxRef, int port) throws Exception {
        try (GrantMapping tx = devices.grantTables().map(domid, new int[] {txRef}, true);
             GrantMapping rx = devices.grantTables().map(domid, new int[] {rxRef}, true)) {
            ByteBuffer t = tx.buffer();
            ByteBuffer r = rx.buffer();
            // struct netif_tx_sring / netif_rx_sring: req_prod, req_event, rsp_prod, rsp_event, then entries at 64.
            System.out.println("XENRIG INFO tx sring req_prod " + t.getInt(0) + " req_event " + t.getInt(4)
                    + " rsp_prod " + t.getInt(8) + " rsp_event " + t.getInt(12));
            int rxReqProd = r.getInt(0);
            System.out.println("XENRIG INFO rx sring req_prod " + rxReqProd + " rsp_event " + r.getInt(12));
            if (t.getInt(12) != 1 || r.getInt(12) != 1) {
                return "the guest's rings do not look like SHARED_RING_INIT (rsp_event " + t.getInt(12) + ", " + r.getInt(12) + ")";
            }
            if (rxReqProd <= 0) {
                return "netfront posted no rx requests";
            }
            // netif_rx_request {uint16 id; uint16 pad; uint32 gref} at 64: a page the guest granted for a packet.
            int gref = r.getInt(64 + 4);
            ByteBuffer local = ByteBuffer.allocateDirect(64).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < 64; i++) {
                local.put(i, (byte) (0xA0 + i));
            }
            int[] status = new int[2];
            ByteBuffer back = ByteBuffer.allocateDirect(64);
            devices.grantTables().copy(List.of(GrantCopy.toGrant(local, 0, domid, gref, 128, 64),
                    GrantCopy.fromGrant(domid, gref, 128, back, 0, 64)), status);
            System.out.println("XENRIG INFO grant copy into rx buffer gref " + gref + ": status " + status[0] + ", " + status[1]);
            if (status[0] != 0 || status[1] != 0 || back.get(63) != (byte) (0xA0 + 63)) {
                return "grant copy to and from the guest's rx page failed";
            }
            try (GrantMapping page = devices.grantTables().map(domid, new int[] {gref}, true)) {
                if (page.buffer().get(128 + 5) != (byte) (0xA5)) {
                    return "mapping of the rx page does not show the copied bytes";
                }
            }
            try (EventChannel ch = devices.eventChannels().bindInterdomain(domid, port, c -> c.unmask())) {
                System.out.println("XENRIG INFO bound dom0 port " + ch.port() + " to guest port " + port);
                ch.notifyRemote();
            }
        }
        return null;
    }

    private String findVifBackend() {
        String base = "/local/domain/0/backend/vif";
        if (!store.exists(base)) {
            return null;
        }
        for (String domid : store.directory(base)) {
            for (String dev : store.directory(base + "/" + domid)) {
                String path = base + "/" + domid + "/" + dev;
                if (store.tryRead(path + "/state").isPresent() && store.tryRead(path + "/frontend").isPresent()) {
                    return path;
                }
            }
        }
        return null;
    }

    private static String output(Process p) throws IOException {
        if (p.isAlive()) {
            p.destroyForcibly();
        }
        return new String(p.getInputStream().readAllBytes()).trim();
    }
}
