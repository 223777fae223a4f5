package io.backplane.netback;

import io.backplane.api.device.DeviceId;
import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.log.OperatorLog;
import io.backplane.api.xenstore.XsPerm;
import io.backplane.hypervisor.sim.SimHypervisor;
import io.backplane.nativeio.NativeIo;
import io.backplane.xenstore.client.EmbeddedXenStore;
import io.backplane.xenstore.store.Quotas;
import io.backplane.xenstore.store.Store;
import io.backplane.xenstore.wire.XenStoreDaemon;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A real XenStore daemon and sim hypervisor in a temporary state directory, guests started as
 * separate JVMs running GuestMain (with its netfronts), and vif devices laid out as libxl does.
 */
final class SimNet implements AutoCloseable {
    final Path stateDir;
    final Store store;
    final XenStoreDaemon daemon;
    final EmbeddedXenStore xs;
    final SimHypervisor sim;
    final NativeIo io = new NativeIo();
    private final List<Process> guests = new ArrayList<>();

    SimNet() throws IOException {
        stateDir = Files.createTempDirectory("netback-test");
        store = new Store(Quotas.XEN_4_17);
        daemon = new XenStoreDaemon(store, stateDir, OperatorLog.stderrWarnings("xenstored"));
        daemon.start();
        xs = new EmbeddedXenStore(store);
        sim = SimHypervisor.start(stateDir, io, xs, -1);
    }

    int createDomain(String name) {
        return sim.create(DomainConfig.ofMiB(name, 32)).domid();
    }

    /** libxl's vif layout (xen-pv-facts "A real vif and vbd pair"), plus options for the netfront. */
    DeviceId addVif(int domid, int devid, String mac, String bridge, String netOptions) {
        return addVif(domid, devid, mac, bridge, netOptions, Map.of());
    }

    /** The same, with more backend keys libxl writes in the same transaction ({@code rate}, {@code mtu}). */
    DeviceId addVif(int domid, int devid, String mac, String bridge, String netOptions, Map<String, String> backendKeys) {
        DeviceId id = new DeviceId(0, "vif", domid, devid);
        String be = id.backendPath();
        String fe = id.frontendPath();
        xs.transaction(tx -> {
            // Directories first with their perms, so every key written below inherits them.
            tx.mkdir(be);
            tx.setPerms(be, List.of(XsPerm.none(0), XsPerm.read(domid)));
            tx.mkdir("/local/domain/" + domid + "/device/vif");
            tx.setPerms("/local/domain/" + domid + "/device", List.of(XsPerm.none(0), XsPerm.read(domid)));
            tx.setPerms("/local/domain/" + domid + "/device/vif", List.of(XsPerm.none(0), XsPerm.read(domid)));
            tx.mkdir(fe);
            tx.setPerms(fe, List.of(XsPerm.none(domid), XsPerm.read(0)));
            tx.write(be + "/frontend", fe);
            tx.write(be + "/frontend-id", Integer.toString(domid));
            tx.write(be + "/online", "1");
            tx.write(be + "/state", "1");
            tx.write(be + "/script", "/etc/xen/scripts/vif-bridge");
            tx.write(be + "/mac", mac);
            tx.write(be + "/bridge", bridge);
            tx.write(be + "/handle", Integer.toString(devid));
            tx.write(be + "/type", "vif");
            tx.write(be + "/hotplug-status", "");
            backendKeys.forEach((k, v) -> tx.write(be + "/" + k, v));
            tx.write(fe + "/backend", be);
            tx.write(fe + "/backend-id", "0");
            tx.write(fe + "/state", "1");
            tx.write(fe + "/handle", Integer.toString(devid));
            tx.write(fe + "/mac", mac);
            if (netOptions != null) {
                tx.write(fe + "/backplane-net", netOptions);
            }
            return null;
        });
        return id;
    }

    /** Starts GuestMain for {@code domid} in its own JVM, its output in the state directory. */
    Process startGuest(int domid, String netSpec) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // The runnable jar the toolstack starts, when the reactor built it; else the test classpath.
        List<String> cmd = new ArrayList<>(List.of(java, "-cp", guestClasspath(),
                "io.backplane.guest.sim.GuestMain", "--state-dir", stateDir.toString(), "--domid", Integer.toString(domid)));
        if (!netSpec.isEmpty()) {
            cmd.addAll(List.of("--net", netSpec));
        }
        File out = guestLog(domid).toFile();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out).start();
        guests.add(p);
        return p;
    }

    private static String guestClasspath() throws IOException {
        Path target = Path.of("..", "guest", "target");
        if (Files.isDirectory(target)) {
            try (var files = Files.list(target)) {
                var jar = files.filter(f -> f.getFileName().toString().endsWith("-runnable.jar")).findFirst();
                if (jar.isPresent()) {
                    return jar.get().toAbsolutePath().toString();
                }
            }
        }
        return System.getProperty("java.class.path");
    }

    Path guestLog(int domid) {
        return stateDir.resolve("guest-" + domid + ".log");
    }

    /** What the guest process of {@code domid} printed so far, for a failed assertion's message. */
    String guestOutput(int domid) {
        try {
            return Files.exists(guestLog(domid)) ? Files.readString(guestLog(domid)) : "";
        } catch (IOException e) {
            return "(guest log unreadable: " + e.getMessage() + ")";
        }
    }

    String read(String path) {
        return xs.tryRead(path).orElse("");
    }

    long stat(DeviceId id, String name) {
        String v = read(id.frontendPath() + "/stats/" + name);
        return v.isEmpty() ? 0 : Long.parseLong(v);
    }

    /** Waits up to {@code seconds} for {@code condition}; false on timeout. */
    static boolean await(int seconds, BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < end) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(50);
        }
        return condition.getAsBoolean();
    }

    /** The offer a policy would publish for a vif (with no strategy serving persistent grants). */
    static Map<String, String> offer(int maxQueues) {
        return Map.of("multi-queue-max-queues", Integer.toString(maxQueues), "feature-sg", "1",
                "feature-gso-tcpv4", "1", "feature-gso-tcpv6", "1", "feature-ipv6-csum-offload", "1",
                "feature-rx-copy", "1", "feature-rx-flip", "0", "feature-split-event-channels", "1",
                "max-ring-page-order", "4");
    }

    @Override
    public void close() throws Exception {
        for (Process p : guests) {
            p.destroy();
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
        sim.close();
        daemon.close();
        // Failures quote the guest logs in their messages; the directory goes.
        try (var paths = Files.walk(stateDir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
