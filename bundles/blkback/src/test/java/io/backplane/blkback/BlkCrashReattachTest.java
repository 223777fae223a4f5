package io.backplane.blkback;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.device.DeviceId;
import io.backplane.api.device.Negotiation;
import io.backplane.api.device.NegotiationPolicy;
import io.backplane.backend.BackendBus;
import io.backplane.api.log.OperatorLog;
import io.backplane.nativeio.NativeIo;
import io.backplane.ring.layout.BlkifRequestDescriptor;
import io.backplane.ring.layout.RequestMirrorDescriptor;
import io.backplane.ring.layout.SharedRingDescriptor;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 at the worst moment, against the sim: the C blkfront of {@link BlkReattachTest} keeps
 * its ring while a backend process ({@link DyingBlkback}) takes its requests, writes responses
 * over their slots and is killed with SIGKILL before it publishes rsp_prod, its pid recorded as
 * the device's owner. The next backend (backend-core's bus with blkback) adopts the vbd and
 * serves the requests the dead one took from its request mirror, not from the slots (which
 * hold responses now). The frontend checks every response (the id of a request in flight, its
 * operation, OKAY, each once) and every byte it reads back.
 */
class BlkCrashReattachTest {
    static final int DEVID = 51712;
    static final int PAGES = 96;
    static final int KILLS = 3;
    /** One page, one queue, no persistent grants or indirect segments: the C blkfront's plain ring. */
    private static final Map<String, String> OFFER = Map.of("max-ring-page-order", "0", "multi-queue-max-queues", "1",
            "feature-persistent", "0", "feature-max-indirect-segments", "0", "feature-flush-cache", "1");
    static NativeIo io;
    static Path binary;

    @TempDir
    Path dir;
    SimWorld world;
    final List<String> logs = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void build() throws Exception {
        io = new NativeIo();
        binary = BlkCFrontendLayoutTest.compile("blkfront_reattach");
    }

    @BeforeEach
    void start() throws Exception {
        world = new SimWorld(dir, io);
    }

    /** A 4 MiB image of zeros. */
    private Path image() throws java.io.IOException {
        Path image = dir.resolve("disk.img");
        Files.write(image, new byte[4 << 20]);
        return image;
    }

    @AfterEach
    void stop() {
        world.close();
    }

    @Test
    void aBackendKilledBetweenWritingAndPublishingResponsesLosesNoRequest() throws Exception {
        Path image = image();
        int domid = world.createDomain("killed", 1024);
        DeviceId id = new DeviceId(0, "vbd", domid, DEVID);
        BackendBus bus = newBus();
        world.createVbd(domid, DEVID, Map.of("params", image.toString(), "mode", "w"), OFFER);
        String roundsKey = "/local/domain/" + domid + "/data/reattach-rounds";
        Path memory = dir.resolve("domains/" + domid + "/memory");
        Path mirror = dir.resolve("devices/vbd/" + domid + "/" + DEVID + "/queue-0.requests");
        Process guest = new ProcessBuilder(binary.toString(), dir.toString(), Integer.toString(domid),
                Integer.toString(DEVID), Integer.toString(PAGES)).redirectErrorStream(true).start();
        try {
            awaitRoundsAbove(roundsKey, 0, guest);
            for (int kill = 1; kill <= KILLS; kill++) {
                long rounds = rounds(roundsKey);
                bus.close();                         // handed over: the next owner is the dying process
                Process dying = startDying(memory, mirror, id);
                String said = new BufferedReader(new InputStreamReader(dying.getInputStream(), StandardCharsets.UTF_8)).readLine();
                Matcher m = Pattern.compile("took (\\d+) of \\d+ requests after rsp_prod (\\d+), wrote (\\d+) responses, published none")
                        .matcher(String.valueOf(said));
                assertThat(m.matches()).as("the dying backend said: " + said).isTrue();
                int took = Integer.parseInt(m.group(1));
                int rspProd = Integer.parseUnsignedInt(m.group(2));
                int wrote = Integer.parseInt(m.group(3));

                dying.destroyForcibly();            // SIGKILL
                assertThat(dying.waitFor(30, TimeUnit.SECONDS)).isTrue();
                assertThat(dying.exitValue()).as("killed by SIGKILL").isEqualTo(128 + 9);
                // What the kill left: rsp_prod unmoved, the first slots after it holding responses
                // where the requests were (the mirror has the requests).
                ByteBuffer ring = read(memory, SharedRingDescriptor.XEN_PAGE_SIZE);
                ByteBuffer copy = read(mirror, (int) Files.size(mirror));
                assertThat(ring.getInt(SharedRingDescriptor.RSP_PROD_OFFSET)).isEqualTo(rspProd);
                assertThat(copy.getInt(RequestMirrorDescriptor.REQ_CONS_OFFSET)).isEqualTo(rspProd + took);
                int entries = copy.getInt(RequestMirrorDescriptor.ENTRIES_OFFSET);
                int stride = copy.getInt(RequestMirrorDescriptor.SLOT_STRIDE_OFFSET);
                for (int i = 0; i < wrote; i++) {
                    int slot = (rspProd + i) & (entries - 1);
                    byte[] inRing = new byte[BlkifRequestDescriptor.LENGTH];
                    byte[] inMirror = new byte[BlkifRequestDescriptor.LENGTH];
                    ring.get(SharedRingDescriptor.ENTRIES_OFFSET + slot * stride, inRing);
                    copy.get(RequestMirrorDescriptor.SLOTS_OFFSET + slot * stride, inMirror);
                    assertThat(inRing).as("slot %d holds the dead backend's response, not the request", slot)
                            .isNotEqualTo(inMirror);
                }

                bus = newBus();                 // adopts from XenStore: its owner is a dead process
                // The lifecycle's line comes after the driver's.
                awaitLog("re-attached to the live rings (its backend process " + dying.pid() + "@", guest);
                assertThat(logs).anyMatch(l -> l.contains("(" + took + " requests the last backend took and never answered"
                        + " served again from its request mirror)"));
                awaitRoundsAbove(roundsKey, rounds + 1, guest);
                logs.removeIf(l -> l.contains("served again from its request mirror"));
            }
            world.xs.write("/local/domain/" + domid + "/data/reattach-stop", "1");
            assertThat(guest.waitFor(60, TimeUnit.SECONDS)).as("C frontend finished").isTrue();
            String out = new String(guest.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(guest.exitValue()).as(out + "\nbackend: " + logs).isZero();
            assertThat(out).contains("every byte checked");
            System.out.println(out);
            assertThat(logs).noneMatch(l -> l.contains("fatal") || l.contains("refused"));
            assertThat(world.xs.read(id.backendPath() + "/state")).isEqualTo("4");
        } finally {
            guest.destroy();
            bus.close();
        }
    }

    /**
     * A standby (a second backend on a state directory of its own, up before the crash) leaves the
     * vbd to its live owner, then adopts it the moment that owner is killed with SIGKILL, with no
     * change in XenStore to tell it: it watches the owner's process. It takes the dead owner's
     * request mirror over from the owner's state directory (recorded in the device's record) and
     * serves the requests the dead one took from it; the frontend checks every response and byte.
     */
    @Test
    void aStandbyAdoptsTheDeviceOfAKilledOwnerWithItsMirror() throws Exception {
        Path image = image();
        int domid = world.createDomain("standby", 1024);
        DeviceId id = new DeviceId(0, "vbd", domid, DEVID);
        BackendBus bus = newBus(dir);
        BackendBus standby = null;
        world.createVbd(domid, DEVID, Map.of("params", image.toString(), "mode", "w"), OFFER);
        String roundsKey = "/local/domain/" + domid + "/data/reattach-rounds";
        Path memory = dir.resolve("domains/" + domid + "/memory");
        Path mirror = dir.resolve("devices/vbd/" + domid + "/" + DEVID + "/queue-0.requests");
        Path standbyDir = Files.createDirectories(dir.resolve("standby"));
        Process guest = new ProcessBuilder(binary.toString(), dir.toString(), Integer.toString(domid),
                Integer.toString(DEVID), Integer.toString(PAGES)).redirectErrorStream(true).start();
        Process dying = null;
        try {
            awaitRoundsAbove(roundsKey, 0, guest);
            long rounds = rounds(roundsKey);
            bus.close();                             // handed over: the owner is the dying process from now on
            dying = startDying(memory, mirror, id);
            String said = new BufferedReader(new InputStreamReader(dying.getInputStream(), StandardCharsets.UTF_8)).readLine();
            Matcher m = Pattern.compile("took (\\d+) of \\d+ requests after rsp_prod \\d+, wrote \\d+ responses, published none")
                    .matcher(String.valueOf(said));
            assertThat(m.matches()).as("the dying backend said: " + said).isTrue();
            int took = Integer.parseInt(m.group(1));

            standby = newBus(standbyDir);
            awaitLog(id + ": removed (not served here: Connected and served by the live process " + dying.pid() + "@", guest);
            // its warm-up: the adoption's code run on the vbd's keys and scratch files, the vbd untouched
            awaitLog(id + ": rehearsed its adoption in ", guest);
            dying.destroyForcibly();                 // SIGKILL: nothing in XenStore changes
            assertThat(dying.waitFor(30, TimeUnit.SECONDS)).isTrue();
            awaitLog("re-attached to the live rings (its backend process " + dying.pid() + "@", guest);
            long owner = dying.pid();
            assertThat(logs).anyMatch(l -> l.contains("its backend process " + owner + "@") && l.contains("died; adopting it"));
            assertThat(logs).anyMatch(l -> l.contains("(" + took + " requests the last backend took and never answered"
                    + " served again from its request mirror)"));
            assertThat(standbyDir.resolve("devices/vbd/" + domid + "/" + DEVID + "/queue-0.requests")).exists();
            try (var files = Files.list(standbyDir.resolve("devices/vbd/" + domid + "/" + DEVID))) {
                assertThat(files.map(f -> f.getFileName().toString())).as("the rehearsal's scratch files are gone")
                        .containsExactly("queue-0.requests");
            }
            assertThat(mirror).as("moved to the standby's state directory").doesNotExist();
            assertThat(world.xs.read(id.backendPath() + "/backplane/files"))
                    .isEqualTo(standbyDir.resolve("devices/vbd/" + domid + "/" + DEVID).toString());
            awaitRoundsAbove(roundsKey, rounds + 1, guest);

            world.xs.write("/local/domain/" + domid + "/data/reattach-stop", "1");
            assertThat(guest.waitFor(60, TimeUnit.SECONDS)).as("C frontend finished").isTrue();
            String out = new String(guest.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(guest.exitValue()).as(out + "\nbackend: " + logs).isZero();
            assertThat(out).contains("every byte checked");
            assertThat(logs).noneMatch(l -> l.contains("fatal") || l.contains("refused"));
            assertThat(world.xs.read(id.backendPath() + "/state")).isEqualTo("4");
        } finally {
            guest.destroy();
            if (dying != null) {
                dying.destroyForcibly();
            }
            bus.close();
            if (standby != null) {
                standby.close();
            }
        }
    }

    /** A {@link DyingBlkback} on the vbd's ring and mirror, recorded as the device's owner. */
    private Process startDying(Path memory, Path mirror, DeviceId id) throws Exception {
        Process dying = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx32m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                DyingBlkback.class.getName(), memory.toString(), mirror.toString()).redirectErrorStream(true).start();
        world.xs.write(id.backendPath() + "/backplane/owner",
                dying.pid() + "@" + dying.toHandle().info().startInstant().orElseThrow().toEpochMilli());
        return dying;
    }

    private static ByteBuffer read(Path file, int bytes) throws Exception {
        return ByteBuffer.wrap(Arrays.copyOf(Files.readAllBytes(file), bytes)).order(ByteOrder.LITTLE_ENDIAN);
    }

    private BackendBus newBus() {
        return newBus(dir);
    }

    private BackendBus newBus(Path stateDir) {
        NegotiationPolicy policy = new NegotiationPolicy() {
            @Override
            public Negotiation negotiate(DeviceId device) {
                return preview(device);
            }

            @Override
            public Negotiation preview(DeviceId device) {
                return new Negotiation(device, OFFER, List.of(), Set.of(), false);
            }
        };
        BackendBus bus = new BackendBus(world.xs, policy, OperatorLog.lines(l -> {
            System.err.println("backend: " + l);
            logs.add(l);
        }), new BackendBus.Options(0, true, true, stateDir));
        bus.addDriver(world.blkback());
        return bus;
    }

    private long rounds(String key) {
        return world.xs.tryRead(key).map(Long::parseLong).orElse(0L);
    }

    private void awaitLog(String text, Process guest) throws Exception {
        long end = System.currentTimeMillis() + 30_000;
        while (logs.stream().noneMatch(l -> l.contains(text))) {
            if (!guest.isAlive() || System.currentTimeMillis() > end) {
                throw new AssertionError("no log line with '" + text + "': " + logs);
            }
            Thread.sleep(5);
        }
    }

    private void awaitRoundsAbove(String key, long rounds, Process guest) throws Exception {
        long end = System.currentTimeMillis() + 30_000;
        while (rounds(key) <= rounds) {
            if (!guest.isAlive() || System.currentTimeMillis() > end) {
                String out = guest.isAlive() ? "(still running)" : new String(guest.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                throw new AssertionError("the guest did not get past round " + rounds + ": " + out + "\nbackend: " + logs);
            }
            Thread.sleep(5);
        }
    }
}
