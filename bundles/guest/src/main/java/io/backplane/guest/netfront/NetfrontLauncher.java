package io.backplane.guest.netfront;

import io.backplane.api.backend.XenbusKeys;
import io.backplane.api.xenstore.XenStore;
import io.backplane.api.xenstore.XsWatch;
import io.backplane.guest.sim.SimGuest;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Starts a {@link Netfront} for every {@code device/vif/N} of the guest, at start and when the
 * toolstack attaches one later (a watch on {@code device/vif}), and closes it when its directory
 * goes (detach). Options come from
 * {@code --net SPEC}, overridden per device by its {@code backplane-net} key when present.
 */
public final class NetfrontLauncher implements AutoCloseable {
    private final SimGuest guest;
    private final XenStore store;
    private final String spec;
    private final String vifDir;
    private final Map<Integer, Netfront> started = new ConcurrentHashMap<>();
    private final XsWatch watch;

    public NetfrontLauncher(SimGuest guest, XenStore store, String spec) {
        this.guest = guest;
        this.store = store;
        this.spec = spec;
        this.vifDir = "/local/domain/" + guest.domid() + "/device/vif";
        NetfrontOptions.parse(spec);                       // refuse a bad --net at once
        this.watch = store.watch(vifDir, "netfront-launcher", (path, token) -> {
            // Only a device appearing concerns us, not every key written below it (stats).
            String rel = path.startsWith(vifDir) ? path.substring(vifDir.length()) : "";
            if (rel.isEmpty() || rel.matches("/[0-9]+(/backend)?")) {
                scan();
            }
        });
    }

    private synchronized void scan() {
        java.util.List<String> present = store.exists(vifDir) ? store.directory(vifDir) : java.util.List.of();
        // Detached (xl network-detach removes the frontend directory): that netfront goes.
        started.keySet().removeIf(devid -> {
            if (present.contains(Integer.toString(devid))) {
                return false;
            }
            started.get(devid).close();
            return true;
        });
        for (String name : present) {
            int devid;
            try {
                devid = Integer.parseInt(name);
            } catch (NumberFormatException e) {
                continue;
            }
            if (started.containsKey(devid) || store.tryRead(vifDir + "/" + name + "/" + XenbusKeys.BACKEND).isEmpty()) {
                continue;
            }
            try {
                NetfrontOptions options = NetfrontOptions.parse(
                        store.tryRead(vifDir + "/" + name + "/backplane-net").orElse(spec));
                Netfront nf = new Netfront(guest, store, devid, options);
                started.put(devid, nf);
                nf.start();
            } catch (RuntimeException e) {
                System.err.println("netfront vif/" + devid + ": not started: " + e.getMessage());
            }
        }
    }

    public int started() {
        return started.size();
    }

    @Override
    public void close() {
        watch.close();
        started.values().forEach(Netfront::close);
    }
}
