package io.backplane.netback;

import io.backplane.api.backend.BackendContext;
import io.backplane.api.backend.BackendDevice;
import io.backplane.api.backend.BackendDriver;
import io.backplane.api.backend.DeviceException;
import io.backplane.api.backend.NetifKeys;
import io.backplane.api.device.DeviceCapabilities;
import io.backplane.api.hypervisor.EventChannels;
import io.backplane.api.ring.RingStrategies;
import io.backplane.api.sink.PacketSink;
import io.backplane.api.sink.PacketSinkFactory;
import io.backplane.api.sink.SinkException;
import io.backplane.api.sink.SinkRequest;
import io.backplane.nativeio.NativeIo;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The {@code vif} backend driver (Linux xen-netback's netback_probe): for each backend directory
 * the xenbus core finds, opens the host end of the interface ({@code vif<domid>.<devid>}, a TAP
 * device on the named bridge, or the in-memory sink), doing the vif-bridge hotplug script's job,
 * and returns the {@link Vif} the core connects once {@code hotplug-status} says connected.
 */
@Component(service = BackendDriver.class, property = BackendDriver.DEVICE_TYPE + "=" + NetbackDriver.TYPE,
        configurationPid = NetbackDriver.PID)
@Designate(ocd = NetbackDriver.Config.class)
public final class NetbackDriver implements BackendDriver {
    public static final String PID = "io.backplane.netback";
    /** The device type netback serves (the backend directory's {@code backend/vif/...}). */
    public static final String TYPE = "vif";
    /** FATAL_SKB_SLOTS_DEFAULT of Linux netback. */
    public static final int FATAL_SKB_SLOTS_DEFAULT = 20;

    @ObjectClassDefinition(name = "Backplane netback", description = "The vif backend: data path limits and worker placement.")
    public @interface Config {
        @AttributeDefinition(name = "Fatal slot count", description = "Linux netback's fatal_skb_slots: a packet "
                + "using this many slots disables its vif as malicious (at least 18; packets of 18 slots or more are dropped).")
        int fatal_skb_slots() default FATAL_SKB_SLOTS_DEFAULT;

        @AttributeDefinition(name = "Worker CPU sets", description = "CPU sets the queue workers are pinned to, "
                + "';' between sets: queue N takes set N modulo their number (e.g. '0;1', or '0-1' for all). Empty: not pinned.")
        String worker_cpus() default "";

        @AttributeDefinition(name = "Worker CPU sets per domain", description = "Per-domain overrides of the worker CPU "
                + "sets, one entry per domain: DOMAIN=SETS with the domain's name or id and SETS as in 'Worker CPU sets' "
                + "(e.g. 'web=2;3', '7=0-1'). Read when the vif connects.")
        String[] worker_cpus_domain() default {};

        @AttributeDefinition(name = "Busy-poll", description = "The queue workers spin on their rings instead of sleeping "
                + "on the event channels: no notification either way once started, at the cost of a CPU per queue kept busy. "
                + "For benchmarks and dedicated cores; off by default.")
        boolean busy_poll() default false;
    }

    /**
     * The driver's settings, from {@link Config} or given directly. {@code domainCpus} maps a
     * domain's name or id to the CPU sets of its vifs' queue workers, overriding
     * {@code workerCpus}: the operator places one guest's network work apart from another's.
     */
    public record Settings(int fatalSkbSlots, List<String> workerCpus, Map<String, List<String>> domainCpus, boolean busyPoll) {
        public Settings {
            if (fatalSkbSlots < TxPath.LEGACY_SLOTS_MAX) {
                throw new IllegalArgumentException("fatal_skb_slots " + fatalSkbSlots + " is below the legacy limit of "
                        + TxPath.LEGACY_SLOTS_MAX + " slots");
            }
            workerCpus = cpuSets(workerCpus);
            Map<String, List<String>> checked = new LinkedHashMap<>();
            for (Map.Entry<String, List<String>> e : domainCpus.entrySet()) {
                checked.put(e.getKey(), cpuSets(e.getValue()));
            }
            domainCpus = Map.copyOf(checked);
        }

        public Settings(int fatalSkbSlots, List<String> workerCpus) {
            this(fatalSkbSlots, workerCpus, Map.of());
        }

        public Settings(int fatalSkbSlots, List<String> workerCpus, Map<String, List<String>> domainCpus) {
            this(fatalSkbSlots, workerCpus, domainCpus, false);
        }

        /** These settings with the queue workers busy-polling ({@link Config#busy_poll}). */
        public Settings busyPolling() {
            return new Settings(fatalSkbSlots, workerCpus, domainCpus, true);
        }

        public static Settings of(Config c) {
            Map<String, List<String>> perDomain = new LinkedHashMap<>();
            for (String entry : c.worker_cpus_domain()) {
                int eq = entry.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("worker.cpus.domain entry '" + entry
                            + "' is not DOMAIN=SETS (e.g. web=0;1)");
                }
                perDomain.put(entry.substring(0, eq).trim(), Arrays.asList(entry.substring(eq + 1).split(";")));
            }
            return new Settings(c.fatal_skb_slots(), Arrays.asList(c.worker_cpus().split(";")), perDomain, c.busy_poll());
        }

        public static Settings defaults() {
            return new Settings(FATAL_SKB_SLOTS_DEFAULT, List.of());
        }

        /**
         * A loop, as in the constructor: after a netback update this runs before the new driver
         * serves, where each lambda would be a class made for the first time (slow under emulation).
         */
        private static List<String> cpuSets(List<String> sets) {
            List<String> checked = new ArrayList<>();
            for (String set : sets) {
                String cpus = CpuAffinity.check(set);
                if (!cpus.isEmpty()) {
                    checked.add(cpus);
                }
            }
            return List.copyOf(checked);
        }

        /**
         * The CPU set of queue {@code q} of a vif of the domain with this id and name (either may
         * be empty): the domain's own sets when it has an entry, by name first, else the global
         * ones; empty when not pinned.
         */
        String cpusFor(String domid, String domainName, int q) {
            List<String> sets = domainCpus.getOrDefault(domainName, domainCpus.getOrDefault(domid, workerCpus));
            return sets.isEmpty() ? "" : sets.get(q % sets.size());
        }
    }

    private final RingStrategies rings;
    private final EventChannels channels;
    private final PacketSinkFactory sinks;
    /** For the queues' buffers (anonymous memory, {@link QueueMemory}); null: allocateDirect's. */
    private final NativeIo io;
    /** Replaced in place by {@link #modified}: vifs probed from then on take the new settings. */
    private volatile Settings settings;

    /**
     * The capabilities reference only orders activation: the driver registers after this bundle's
     * {@link VifCapabilities}, so after an update of the bundle no vif is probed before the policy
     * knows what a vif can offer.
     */
    @Activate
    public NetbackDriver(@Reference(name = "rings") RingStrategies rings,
                         @Reference(name = "eventChannels") EventChannels channels,
                         @Reference(name = "sinks") PacketSinkFactory sinks,
                         @Reference(name = "capabilities", target = "(" + DeviceCapabilities.DEVICE_TYPE + "=" + TYPE + ")")
                         DeviceCapabilities capabilities, @Reference(name = "io") NativeIo io, Config config) {
        this(rings, channels, sinks, io, Settings.of(config));
    }

    /** Without native I/O: the queues' buffers are allocateDirect's (zeroed up front). */
    public NetbackDriver(RingStrategies rings, EventChannels channels, PacketSinkFactory sinks, Settings settings) {
        this(rings, channels, sinks, null, settings);
    }

    public NetbackDriver(RingStrategies rings, EventChannels channels, PacketSinkFactory sinks, NativeIo io, Settings settings) {
        this.rings = rings;
        this.channels = channels;
        this.sinks = sinks;
        this.io = io;
        this.settings = settings;
    }

    /** In place: connected vifs keep their settings (re-activating would close every vif). */
    @Modified
    void modified(Config config) {
        settings = Settings.of(config);
    }

    @Override
    public String deviceType() {
        return TYPE;
    }

    @Override
    public BackendDevice probe(BackendContext ctx) {
        String name = "vif" + ctx.id().frontendDomid() + "." + ctx.id().devid();
        String bridge = ctx.backendKey(NetifKeys.BRIDGE).orElse("");
        int mtu = (int) NetbackXenbus.readUnsigned(ctx.backendKey(NetifKeys.MTU), 1500);
        PacketSink sink;
        try {
            sink = sinks.open(new SinkRequest(name, bridge, mtu));
        } catch (SinkException | IllegalArgumentException e) {
            throw new DeviceException("creating interface " + name + ": " + e.getMessage(), e);
        }
        ctx.log("interface ready: " + sink.describe());
        return new Vif(ctx, settings, rings, channels, io, sink);
    }

    @Override
    public void rehearseAdoption(BackendContext ctx, Map<String, String> recorded) {
        Vif.rehearse(ctx, recorded, rings, ctx.stateDirectory());
    }
}
