package io.backplane.toolstack;

import io.backplane.api.backend.NetifKeys;
import io.backplane.api.backend.XenbusKeys;
import io.backplane.api.backend.XenbusState;
import io.backplane.api.device.DeviceId;
import io.backplane.api.log.OperatorLog;
import io.backplane.api.xenstore.DomainHome;
import io.backplane.api.xenstore.XenStore;
import io.backplane.api.xenstore.XsWatch;
import io.backplane.toolstack.config.ConfigException;
import io.backplane.toolstack.config.DiskConfig;
import io.backplane.toolstack.config.DomainConfig;
import io.backplane.toolstack.config.NicConfig;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.random.RandomGenerator;

/**
 * What {@code xl} does with domains and their vif and vbd devices, against XenStore. A domain's
 * entries and all its devices are written in one transaction after the whole config was
 * checked, so a refused or failed create leaves nothing behind. The toolstack never calls a
 * backend: it writes keys, and backends react to their watches.
 */
public final class Toolstack {

    /** A domain as {@code xl list} shows it. */
    public record DomainInfo(int domid, String name, long memoryMiB, int vcpus, boolean guestRunning) {
    }

    /** The result of a create: the domain id and its devices. */
    public record Created(int domid, List<DeviceId> devices, long guestPid) {
    }

    /** A domain this toolstack created, with what it needs to create it again (on_*=restart). */
    private record Managed(DomainConfig config, String configPath) {
    }


    private final XenStore xenStore;
    private final DomainBuilder builder;
    private final GuestLauncher guests;
    private final BiFunction<String, String, String> featureKey;
    private final RandomGenerator random;
    /** Replaced by {@link #setCloseTimeout}; a removal already waiting keeps its deadline. */
    private volatile Duration closeTimeout;
    private final OperatorLog log;
    private final Map<Integer, Managed> managed = new java.util.concurrent.ConcurrentHashMap<>();
    /** Domains a destroy is under way for: a second destroy (xl:destroy racing on_crash) leaves them alone. */
    private final Set<Integer> destroying = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * @param featureKey maps (device type, feature name or alias) to the Xen key to request; an
     *                   unknown name maps to itself, so the backend can reject it visibly
     * @param log        hears what went less well than asked (a backend that did not close in time)
     */
    Toolstack(XenStore xenStore, DomainBuilder builder, GuestLauncher guests,
              BiFunction<String, String, String> featureKey, RandomGenerator random, Duration closeTimeout,
              OperatorLog log) {
        this.xenStore = xenStore;
        this.builder = builder;
        this.guests = guests;
        this.featureKey = featureKey;
        this.random = random;
        this.closeTimeout = closeTimeout;
        this.log = log;
    }

    void setCloseTimeout(Duration closeTimeout) {
        this.closeTimeout = closeTimeout;
    }

    /**
     * What xen-init-dom0 writes at boot, when nobody has: dom0's name and id. Backends and
     * {@code xl list} expect them.
     */
    void initDom0() {
        xenStore.transaction(tx -> {
            if (!tx.exists("/local/domain/0/name")) {
                tx.write("/local/domain/0/name", "Domain-0");
                tx.write("/local/domain/0/domid", "0");
            }
            return null;
        });
    }

    Created create(DomainConfig config, String configPath) {
        findDomain(config.name()).ifPresent(id -> {
            throw new ToolstackException("domain " + config.name() + " already exists (id " + id + ")");
        });
        List<NicConfig> nics = withMacs(config.nics(), Set.of());
        Map<NicConfig, Map<String, String>> nicRequests = new LinkedHashMap<>();
        for (NicConfig n : nics) {
            nicRequests.put(n, requests(config.source(), n.line(), "vif", n.features()));
        }
        Map<DiskConfig, Map<String, String>> diskRequests = new LinkedHashMap<>();
        for (DiskConfig d : config.disks()) {
            diskRequests.put(d, requests(config.source(), d.line(), "vbd", d.features()));
        }
        String uuid = config.uuid().orElseGet(() -> UUID.randomUUID().toString());

        DomainBuilder.Built built = builder.build(config, id -> xenStore.exists("/local/domain/" + id));
        int domid = built.domid();
        List<DeviceId> devices = new ArrayList<>();
        try {
            xenStore.transaction(tx -> {
                devices.clear();
                String home = "/local/domain/" + domid;
                if (built.byHypervisor()) {
                    // The hypervisor wrote the home and introduced the domain; we add libxl's build_post part.
                    if (!tx.tryRead(home + "/name").equals(Optional.of(config.name()))) {
                        throw new ToolstackException("the hypervisor did not register domain " + config.name()
                                + " as " + home + " in XenStore");
                    }
                    DomainEntries.buildPost(tx, domid, config);
                } else {
                    if (tx.exists(home)) {
                        throw new ToolstackException("domain id " + domid + " is already in XenStore");
                    }
                    DomainHome.write(tx, domid, config.name(), uuid);
                    DomainEntries.buildPost(tx, domid, config);
                }
                nicRequests.forEach((n, r) -> {
                    DeviceEntries e = LibxlDevices.vif(domid, n, n.mac().orElseThrow(), r);
                    DeviceWriter.add(tx, e);
                    devices.add(e.device());
                });
                diskRequests.forEach((d, r) -> {
                    DeviceEntries e = LibxlDevices.vbd(domid, d, r);
                    DeviceWriter.add(tx, e);
                    devices.add(e.device());
                });
                return null;
            });
            // A guest program attaches to what the hypervisor made; a store-only domain has no guest.
            long pid = built.byHypervisor() ? guests.start(domid, config.name(), configPath == null ? "" : configPath) : -1;
            managed.put(domid, new Managed(config, configPath));
            return new Created(domid, List.copyOf(devices), pid);
        } catch (RuntimeException e) {
            rollback(domid, built.byHypervisor() ? null : uuid);
            if (e instanceof ToolstackException) {
                throw e;
            }
            throw new ToolstackException("domain " + config.name() + " not created: " + e.getMessage(), e);
        }
    }

    /**
     * Undoes a create: the devices, the home we wrote (only when {@code uuid} says it is ours, so
     * never dom0's or another domain's), and the domain itself.
     */
    private void rollback(int domid, String uuid) {
        try {
            xenStore.transaction(tx -> {
                for (DeviceId d : devicesIn(tx, domid)) {
                    DeviceWriter.remove(tx, d);
                }
                if (uuid != null && tx.tryRead(DomainHome.path(domid) + "/vm").equals(Optional.of("/vm/" + uuid))) {
                    DomainHome.remove(tx, domid);
                    DeviceWriter.pruneEmpty(tx, "/vm", "");
                }
                return null;
            });
        } finally {
            builder.destroy(domid);
        }
    }

    /** Canonical request keys for one device; two names for the same feature must agree. */
    private Map<String, String> requests(String source, int line, String type, Map<String, String> features) {
        Map<String, String> out = new LinkedHashMap<>();
        features.forEach((name, value) -> {
            String key = featureKey.apply(type, name);
            String before = out.putIfAbsent(key, value);
            if (before != null && !before.equals(value)) {
                throw new ConfigException(source, line, type + ": " + key + " is requested as both '" + before
                        + "' and '" + value + "'");
            }
        });
        return out;
    }

    /** Gives every vif without a MAC a random one in Xen's OUI 00:16:3e, as libxl does. */
    private List<NicConfig> withMacs(List<NicConfig> nics, Set<String> inUse) {
        Set<String> used = new HashSet<>(inUse);
        nics.forEach(n -> n.mac().ifPresent(used::add));
        List<NicConfig> out = new ArrayList<>();
        for (NicConfig n : nics) {
            if (n.mac().isPresent()) {
                out.add(n);
                continue;
            }
            String mac;
            do {
                mac = String.format("00:16:3e:%02x:%02x:%02x", random.nextInt(0x80), random.nextInt(0x100),
                        random.nextInt(0x100));
            } while (!used.add(mac));
            out.add(n.withMac(mac));
        }
        return out;
    }

    DeviceId attachNic(String dom, NicConfig nic) {
        int domid = resolve(dom);
        List<DeviceId> existing = devices(domid, "vif");
        Set<String> macs = new HashSet<>();
        for (DeviceId d : existing) {
            xenStore.tryRead(d.backendPath() + "/" + NetifKeys.MAC).ifPresent(macs::add);
        }
        int devid = nic.devid() >= 0 ? nic.devid()
                : existing.stream().mapToInt(DeviceId::devid).max().orElse(-1) + 1;
        if (existing.stream().anyMatch(d -> d.devid() == devid)) {
            throw new ToolstackException("domain " + dom + " already has vif " + devid);
        }
        if (nic.mac().isPresent() && macs.contains(nic.mac().get())) {
            throw new ToolstackException("domain " + dom + " already has a vif with mac " + nic.mac().get());
        }
        NicConfig n = withMacs(List.of(nic.withDevid(devid)), macs).get(0);
        DeviceEntries e = LibxlDevices.vif(domid, n, n.mac().orElseThrow(), requests("vif spec", 0, "vif", n.features()));
        return addDevice(domid, e);
    }

    DeviceId attachDisk(String dom, DiskConfig disk) {
        int domid = resolve(dom);
        if (devices(domid, "vbd").stream().anyMatch(d -> d.devid() == disk.devid())) {
            throw new ToolstackException("domain " + dom + " already has a disk " + disk.vdev() + " (" + disk.devid() + ")");
        }
        return addDevice(domid, LibxlDevices.vbd(domid, disk, requests("disk spec", 0, "vbd", disk.features())));
    }

    private DeviceId addDevice(int domid, DeviceEntries e) {
        xenStore.transaction(tx -> {
            if (!tx.exists("/local/domain/" + domid + "/name")) {
                throw new ToolstackException("domain " + domid + " went away");
            }
            if (tx.exists(e.device().frontendPath())) {
                throw new ToolstackException("device " + e.device() + " already exists");
            }
            DeviceWriter.add(tx, e);
            return null;
        });
        return e.device();
    }

    /** Detaches a vif by devid or MAC; returns the device, or throws when there is none. */
    DeviceId detachNic(String dom, String devidOrMac) {
        int domid = resolve(dom);
        for (DeviceId d : devices(domid, "vif")) {
            if (Integer.toString(d.devid()).equals(devidOrMac) || xenStore.tryRead(d.backendPath() + "/" + NetifKeys.MAC)
                    .map(m -> m.equalsIgnoreCase(devidOrMac)).orElse(false)) {
                return detach(d);
            }
        }
        throw new ToolstackException("domain " + dom + " has no vif " + devidOrMac);
    }

    /** Detaches a vbd by vdev name ({@code xvdb}) or device number. */
    DeviceId detachDisk(String dom, String vdev) {
        int domid = resolve(dom);
        int devid = io.backplane.toolstack.config.VirtualDevice.devid(vdev);
        for (DeviceId d : devices(domid, "vbd")) {
            if (d.devid() == devid) {
                return detach(d);
            }
        }
        throw new ToolstackException("domain " + dom + " has no disk " + vdev);
    }

    private DeviceId detach(DeviceId d) {
        closeAndRemove(List.of(d), true);
        return d;
    }

    /** Destroys a domain: closes its devices, stops its guest, destroys it, removes what is left in XenStore. */
    int destroy(String dom) {
        int domid = resolve(dom);
        if (domid == 0) {
            throw new ToolstackException("domain 0 cannot be destroyed");
        }
        if (!destroyDomain(domid)) {
            throw new ToolstackException("domain " + dom + " is already being destroyed");
        }
        return domid;
    }

    /**
     * Takes over domain {@code domid} that a previous toolstack of this runtime created from
     * {@code config} (at {@code configPath}), when it is still there under {@code name}.
     */
    boolean adopt(int domid, String name, DomainConfig config, String configPath) {
        if (!xenStore.tryRead("/local/domain/" + domid + "/name").equals(Optional.of(name))) {
            return false;
        }
        managed.put(domid, new Managed(config, configPath));
        return true;
    }

    /** The config a domain this toolstack created was made from; empty for others and once it is destroyed. */
    Optional<DomainConfig> config(int domid) {
        return Optional.ofNullable(managed.get(domid)).map(Managed::config);
    }

    /**
     * Destroys a domain this toolstack created, unless it is gone or a destroy of it is already
     * under way (then false): what on_*=destroy does.
     */
    boolean destroyManaged(int domid) {
        return managed.containsKey(domid) && destroyDomain(domid);
    }

    /**
     * on_*=restart: destroys the domain and creates it again from the same config, under the
     * same name with a new domain id, its devices written again for the backends to connect.
     * Empty when it is not one of ours or a destroy of it is already under way.
     */
    Optional<Created> restart(int domid) {
        Managed m = managed.get(domid);
        if (m == null || !destroyDomain(domid)) {
            return Optional.empty();
        }
        return Optional.of(create(m.config(), m.configPath()));
    }

    private boolean destroyDomain(int domid) {
        if (!destroying.add(domid)) {
            return false;
        }
        try {
            // A frontend answers Closing only while its guest runs. A guest we started is stopped
            // here (or is already dead), and a domain that shut down or crashed has no one left to
            // answer: as libxl's forced destroy, its devices go at once, and their backends close
            // on seeing the directories removed. Only a running guest we did not start (store-only
            // domains, tests acting as the frontend) is given the close timeout.
            boolean launched = guests.launched(domid);
            guests.stop(domid);
            boolean frontendsCanAnswer = !launched && builder.running(domid);
            try {
                closeAndRemove(devices(domid, null), frontendsCanAnswer);
            } finally {
                // The hypervisor releases and removes the home it wrote; a store-only one goes here.
                managed.remove(domid);
                builder.destroy(domid);
                xenStore.transaction(tx -> {
                    DomainHome.remove(tx, domid);
                    DeviceWriter.pruneEmpty(tx, "/vm", "");
                    return null;
                });
                if (xenStore.isDomainIntroduced(domid)) {
                    xenStore.releaseDomain(domid);
                }
            }
            return true;
        } finally {
            destroying.remove(domid);
        }
    }

    /**
     * libxl's device removal: backend {@code online=0} and {@code state=5}, wait for the backend
     * to reach Closed (6), then remove both directories. A device no backend ever picked up
     * (still Initialising) has nobody to wait for; one whose backend does not answer in time is
     * removed anyway, as {@code xl destroy} does, and reported to {@code log}. Without
     * {@code waitForBackends} (the guest is dead) they are removed at once.
     */
    private void closeAndRemove(List<DeviceId> devices, boolean waitForBackends) {
        List<DeviceId> waitFor = xenStore.transaction(tx -> {
            List<DeviceId> live = new ArrayList<>();
            for (DeviceId d : devices) {
                String state = tx.tryRead(d.backendPath() + "/" + XenbusKeys.STATE).orElse(XenbusState.CLOSED.wire());
                if (!state.equals(XenbusState.INITIALISING.wire()) && !state.equals(XenbusState.CLOSED.wire())) {
                    tx.write(d.backendPath() + "/" + XenbusKeys.ONLINE, "0");
                    tx.write(d.backendPath() + "/" + XenbusKeys.STATE, XenbusState.CLOSING.wire());
                    live.add(d);
                }
            }
            return live;
        });
        List<DeviceId> stuck = waitForBackends ? waitClosed(waitFor) : List.of();
        xenStore.transaction(tx -> {
            for (DeviceId d : devices) {
                DeviceWriter.remove(tx, d);
            }
            return null;
        });
        for (DeviceId d : stuck) {
            log.warn("device " + d + ": the backend did not reach Closed within " + closeTimeout.toSeconds()
                    + " s; removed anyway");
        }
    }

    private List<DeviceId> waitClosed(List<DeviceId> devices) {
        if (devices.isEmpty()) {
            return List.of();
        }
        CountDownLatch closed = new CountDownLatch(devices.size());
        List<XsWatch> watches = new ArrayList<>();
        Set<DeviceId> done = java.util.concurrent.ConcurrentHashMap.newKeySet();
        try {
            for (DeviceId d : devices) {
                String path = d.backendPath() + "/" + XenbusKeys.STATE;
                watches.add(xenStore.watch(path, "xl-close-" + d.frontendDomid() + "-" + d.type() + "-" + d.devid(),
                        (p, token) -> {
                            String s = xenStore.tryRead(path).orElse(XenbusState.CLOSED.wire());
                            if (s.equals(XenbusState.CLOSED.wire()) && done.add(d)) {
                                closed.countDown();
                            }
                        }));
            }
            closed.await(closeTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            watches.forEach(XsWatch::close);
        }
        return devices.stream().filter(d -> !done.contains(d)).toList();
    }

    List<DomainInfo> list() {
        List<DomainInfo> out = new ArrayList<>();
        for (int domid : domids()) {
            String dom = "/local/domain/" + domid;
            Optional<String> name = xenStore.tryRead(dom + "/name");
            if (name.isEmpty()) {
                continue;
            }
            long mem = xenStore.tryRead(dom + "/memory/target").map(Long::parseLong).orElse(0L) / 1024;
            int vcpus = xenStore.exists(dom + "/cpu") ? xenStore.directory(dom + "/cpu").size() : 0;
            out.add(new DomainInfo(domid, name.get(), mem, vcpus, guests.running(domid)));
        }
        return out;
    }

    /** A domain given by id or name, as xl accepts it. */
    int resolve(String dom) {
        if (dom.matches("\\d+")) {
            int id = Integer.parseInt(dom);
            if (xenStore.exists("/local/domain/" + id + "/name")) {
                return id;
            }
            throw new ToolstackException("no domain with id " + dom);
        }
        return findDomain(dom).orElseThrow(() -> new ToolstackException("no domain named " + dom));
    }

    private Optional<Integer> findDomain(String name) {
        for (int domid : domids()) {
            if (xenStore.tryRead("/local/domain/" + domid + "/name").map(name::equals).orElse(false)) {
                return Optional.of(domid);
            }
        }
        return Optional.empty();
    }

    private List<Integer> domids() {
        if (!xenStore.exists("/local/domain")) {
            return List.of();
        }
        return xenStore.directory("/local/domain").stream().filter(s -> s.matches("\\d+"))
                .map(Integer::parseInt).sorted().toList();
    }

    /** The domain's devices (of one type, or all when {@code type} is null), from its frontend directories. */
    List<DeviceId> devices(int domid, String type) {
        return devicesIn(xenStore, domid).stream().filter(d -> type == null || d.type().equals(type)).toList();
    }

    private static List<DeviceId> devicesIn(io.backplane.api.xenstore.XsOps ops, int domid) {
        String base = "/local/domain/" + domid + "/device";
        List<DeviceId> out = new ArrayList<>();
        for (String type : ops.exists(base) ? ops.directory(base) : List.<String>of()) {
            for (String devid : ops.directory(base + "/" + type)) {
                ops.tryRead(base + "/" + type + "/" + devid + "/" + XenbusKeys.BACKEND).ifPresent(be -> {
                    try {
                        out.add(DeviceId.fromBackendPath(be));
                    } catch (IllegalArgumentException e) {
                        // a frontend pointing elsewhere is not one of ours to manage
                    }
                });
            }
        }
        // A domain whose home went first (the hypervisor removed it) still has its backend
        // directories: they are its devices too, or backends would keep serving a dead domain.
        String backends = "/local/domain/0/backend";
        for (String type : ops.exists(backends) ? ops.directory(backends) : List.<String>of()) {
            String dir = backends + "/" + type + "/" + domid;
            for (String devid : ops.exists(dir) ? ops.directory(dir) : List.<String>of()) {
                try {
                    DeviceId id = DeviceId.fromBackendPath(dir + "/" + devid);
                    if (!out.contains(id)) {
                        out.add(id);
                    }
                } catch (IllegalArgumentException e) {
                    // not a device directory
                }
            }
        }
        return out;
    }
}
