package io.backplane.blkback;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.device.DeviceId;
import io.backplane.backend.BackendBus;
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
    static final int DEVID = BlkReattachFixture.DEVID;
    static final int KILLS = 3;
    static final Map<String, String> OFFER = BlkReattachFixture.PLAIN_OFFER;
    static NativeIo io;

    @TempDir
    Path dir;
    BlkReattachFixture fx;
    SimWorld world;
    List<String> logs;

    @BeforeAll
    static void libc() {
        io = new NativeIo();
    }

    @BeforeEach
    void start() throws Exception {
        fx = new BlkReattachFixture(dir, io);
        world = fx.world;
        logs = fx.logs;
    }

    @AfterEach
    void stop() {
        fx.close();
    }

    @Test
    void aBackendKilledBetweenWritingAndPublishingResponsesLosesNoRequest() throws Exception {
        BackendBus bus = fx.newBus(dir, OFFER);
        int domid = fx.domainWithVbd("killed", OFFER);
        DeviceId id = new DeviceId(0, "vbd", domid, DEVID);
        Path memory = dir.resolve("domains/" + domid + "/memory");
        Path mirror = dir.resolve("devices/vbd/" + domid + "/" + DEVID + "/queue-0.requests");
        BlkReattachFixture.Guest guest = fx.startGuest(domid);
        try {
            fx.awaitRoundsAbove(guest, 0);
            for (int kill = 1; kill <= KILLS; kill++) {
                long rounds = fx.rounds(guest);
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

                bus = fx.newBus(dir, OFFER);    // adopts from XenStore: its owner is a dead process
                // The lifecycle's line comes after the driver's.
                fx.awaitLog("re-attached to the live rings (its backend process " + dying.pid() + "@", guest);
                assertThat(logs).anyMatch(l -> l.contains("(" + took + " requests the last backend took and never answered"
                        + " served again from its request mirror)"));
                fx.awaitRoundsAbove(guest, rounds + 1);
                logs.removeIf(l -> l.contains("served again from its request mirror"));
            }
            System.out.println(fx.finish(guest));
        } finally {
            guest.process().destroy();
            bus.close();
        }
    }

    /**
     * A standby (a second backend on a state directory of its own, up before the crash) leaves the
     * vbd on persistent grants to its live owner, holding the ring's page and every grant the
     * owner's grant record names mapped, then adopts it the moment that owner is killed with
     * SIGKILL, with no change in XenStore to tell it: it watches the owner's process. It takes the
     * dead owner's request mirror and grant record over from the owner's state directory (recorded
     * in the device's record), finds every recorded grant mapped already, and serves the requests
     * the dead one took from the mirror with no map call; the frontend checks every response and byte.
     */
    @Test
    void aStandbyAdoptsTheDeviceOfAKilledOwnerWithItsMirror() throws Exception {
        Map<String, String> offer = fx.persistentOffer();
        BackendBus bus = fx.newBus(dir, offer);
        BackendBus standby = null;
        int domid = fx.domainWithVbd("standby", offer);
        DeviceId id = new DeviceId(0, "vbd", domid, DEVID);
        Path memory = dir.resolve("domains/" + domid + "/memory");
        Path mirror = dir.resolve("devices/vbd/" + domid + "/" + DEVID + "/queue-0.requests");
        Path standbyDir = Files.createDirectories(dir.resolve("standby"));
        BlkReattachFixture.Guest guest = fx.startGuest(domid, true);
        Process dying = null;
        try {
            fx.awaitRoundsAbove(guest, 0);       // a whole round: every slot's grants mapped and recorded
            long rounds = fx.rounds(guest);
            String recorded = bus.device(id).orElseThrow().status().get("queue-0/persistent-grants");
            bus.close();                             // handed over: the owner is the dying process from now on
            dying = startDying(memory, mirror, id);
            String said = new BufferedReader(new InputStreamReader(dying.getInputStream(), StandardCharsets.UTF_8)).readLine();
            Matcher m = Pattern.compile("took (\\d+) of \\d+ requests after rsp_prod \\d+, wrote \\d+ responses, published none")
                    .matcher(String.valueOf(said));
            assertThat(m.matches()).as("the dying backend said: " + said).isTrue();
            int took = Integer.parseInt(m.group(1));

            standby = fx.newBus(standbyDir, offer);
            fx.awaitLog(id + ": removed (not served here: Connected and served by the live process " + dying.pid() + "@", guest);
            // its warm-up: the adoption's code run on the vbd's keys and scratch files, the vbd untouched
            fx.awaitLog(id + ": rehearsed its adoption in ", guest);
            fx.awaitLog(id + ": holding ", guest);
            assertThat(fx.held(guest, 1)).as("the ring's page and every grant in the owner's record, held before the kill")
                    .containsExactly(1, Integer.parseInt(recorded));
            dying.destroyForcibly();                 // SIGKILL: nothing in XenStore changes
            assertThat(dying.waitFor(30, TimeUnit.SECONDS)).isTrue();
            fx.awaitLog("re-attached to the live rings (its backend process " + dying.pid() + "@", guest);
            long owner = dying.pid();
            assertThat(logs).anyMatch(l -> l.contains("its backend process " + owner + "@") && l.contains("died; adopting it"));
            assertThat(logs).anyMatch(l -> l.contains("(" + took + " requests the last backend took and never answered"
                    + " served again from its request mirror)"));
            assertThat(standbyDir.resolve("devices/vbd/" + domid + "/" + DEVID + "/queue-0.requests")).exists();
            try (var files = Files.list(standbyDir.resolve("devices/vbd/" + domid + "/" + DEVID))) {
                assertThat(files.map(f -> f.getFileName().toString())).as("the rehearsal's scratch files are gone")
                        .containsExactlyInAnyOrder("queue-0.requests", "queue-0.grants");
            }
            assertThat(standby.device(id).orElseThrow().status()).as("what the adopter found mapped")
                    .containsEntry("queue-0/prepared-ring-pages", "1").containsEntry("queue-0/persistent-prepared", recorded)
                    .containsEntry("queue-0/persistent-claim-maps", "0").containsEntry("queue-0/persistent-map-calls", "0");
            assertThat(mirror).as("moved to the standby's state directory").doesNotExist();
            assertThat(world.xs.read(id.backendPath() + "/backplane/files"))
                    .isEqualTo(standbyDir.resolve("devices/vbd/" + domid + "/" + DEVID).toString());
            fx.awaitRoundsAbove(guest, rounds + 1);
            fx.finish(guest);
            standby.close();
            fx.awaitDom0Mappings(domid, 0, "the standby gone");
        } finally {
            guest.process().destroy();
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
}
