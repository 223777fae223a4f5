package io.backplane.blkback;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.device.DeviceId;
import io.backplane.api.device.Negotiation;
import io.backplane.api.device.NegotiationPolicy;
import io.backplane.api.log.OperatorLog;
import io.backplane.backend.BackendBus;
import io.backplane.nativeio.NativeIo;
import io.backplane.xenstore.client.EmbeddedXenStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * What the vbd re-attach tests share: a sim world, C blkfronts (src/test/c/blkfront_reattach.c)
 * that keep their ring, grants and port across backends and count every request and byte, buses
 * with blkback that hand their devices over ({@code keepDevices}), and the waits on them.
 */
final class BlkReattachFixture implements AutoCloseable {
    static final int DEVID = 51712;
    static final int PAGES = 96;
    /** One page, one queue, no persistent grants or indirect segments: the C blkfront's plain ring. */
    static final Map<String, String> PLAIN_OFFER = Map.of("max-ring-page-order", "0", "multi-queue-max-queues", "1",
            "feature-persistent", "0", "feature-max-indirect-segments", "0", "feature-flush-cache", "1");

    private static Path binary;

    /**
     * {@link #PLAIN_OFFER} with persistent grants offered, the persistent strategy registered
     * beside grant copy for the buses made from now on (a ring that negotiated it ranks it first).
     */
    Map<String, String> persistentOffer() {
        world.allStrategies = true;
        Map<String, String> offer = new java.util.HashMap<>(PLAIN_OFFER);
        offer.put("feature-persistent", "1");
        return Map.copyOf(offer);
    }

    final Path dir;
    final SimWorld world;
    final List<String> logs = new CopyOnWriteArrayList<>();
    private final List<EmbeddedXenStore> connections = new CopyOnWriteArrayList<>();
    /** The blkback driver of the last bus made. */
    BlkbackDriver driver;

    /** One C blkfront on its domain's vbd {@link #DEVID}; its progress is a key of its domain. */
    record Guest(int domid, Process process) {
        String roundsKey() {
            return "/local/domain/" + domid + "/data/reattach-rounds";
        }

        DeviceId vbd() {
            return new DeviceId(0, "vbd", domid, DEVID);
        }
    }

    BlkReattachFixture(Path dir, NativeIo io) throws Exception {
        synchronized (BlkReattachFixture.class) {
            if (binary == null) {
                binary = BlkCFrontendLayoutTest.compile("blkfront_reattach");
            }
        }
        this.dir = dir;
        this.world = new SimWorld(dir, io);
    }

    /** A domain named {@code name} with a vbd on a 4 MiB image of zeros of its own. */
    int domainWithVbd(String name, Map<String, String> offer) throws Exception {
        Path image = dir.resolve(name + ".img");
        Files.write(image, new byte[4 << 20]);
        int domid = world.createDomain(name, 1024);
        world.createVbd(domid, DEVID, Map.of("params", image.toString(), "mode", "w"), offer);
        return domid;
    }

    Guest startGuest(int domid) throws Exception {
        return startGuest(domid, false);
    }

    /** @param persistent feature-persistent asked for, each page in two segments on two grants */
    Guest startGuest(int domid, boolean persistent) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(binary.toString(), dir.toString(), Integer.toString(domid),
                Integer.toString(DEVID), Integer.toString(PAGES)));
        if (persistent) {
            command.add("persistent");
        }
        return new Guest(domid, new ProcessBuilder(command).redirectErrorStream(true).start());
    }

    /**
     * A bus with a new blkback driver, handing its devices over when it closes, on {@code stateDir}
     * and a XenStore connection of its own (as another process would have: two buses watch the
     * same directories).
     */
    BackendBus newBus(Path stateDir, Map<String, String> offer) {
        EmbeddedXenStore xs = new EmbeddedXenStore(world.store);
        connections.add(xs);
        NegotiationPolicy policy = new NegotiationPolicy() {
            @Override
            public Negotiation negotiate(DeviceId device) {
                return preview(device);
            }

            @Override
            public Negotiation preview(DeviceId device) {
                return new Negotiation(device, offer, List.of(), Set.of(), false);
            }
        };
        BackendBus bus = new BackendBus(xs, policy, OperatorLog.lines(l -> {
            System.err.println("backend: " + l);
            logs.add(l);
        }), new BackendBus.Options(0, true, true, stateDir));
        driver = world.blkback();
        bus.addDriver(driver);
        return bus;
    }

    /** The mappings of {@code domid}'s pages that dom0 holds now (every bus of the test: one process). */
    int dom0Mappings(int domid) {
        return world.sim.domainStatus().stream().filter(d -> d.domid() == domid).mapToInt(d -> d.dom0Mappings()).sum();
    }

    /** Until dom0 holds exactly {@code expected} mappings of {@code domid}'s pages (30 s). */
    void awaitDom0Mappings(int domid, int expected, String why) throws Exception {
        long end = System.currentTimeMillis() + 30_000;
        while (dom0Mappings(domid) != expected) {
            if (System.currentTimeMillis() > end) {
                throw new AssertionError(why + ": dom0 holds " + dom0Mappings(domid) + " mappings of domain " + domid
                        + "'s pages, not " + expected + "\nbackend: " + logs);
            }
            Thread.sleep(5);
        }
    }

    /**
     * What the standby said it held for {@code g}'s vbd ready for adoption, its {@code n}th such
     * line (from 1): {ring pages, persistent grants}.
     */
    int[] held(Guest g, int n) {
        java.util.regex.Pattern p = java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(g.vbd() + ": holding ")
                + "(\\d+) ring pages and (\\d+) persistent grants ready for adoption.*");
        List<int[]> said = logs.stream().map(p::matcher).filter(java.util.regex.Matcher::matches)
                .map(m -> new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))}).toList();
        assertThat(said).as("the standby's lines holding %s's rings: %s", g.vbd(), logs).hasSizeGreaterThanOrEqualTo(n);
        return said.get(n - 1);
    }

    long rounds(Guest g) {
        return world.xs.tryRead(g.roundsKey()).map(Long::parseLong).orElse(0L);
    }

    long logged(String text) {
        return logs.stream().filter(l -> l.contains(text)).count();
    }

    /** Until {@code count} log lines contain {@code text} (30 s, or the guest ends). */
    void awaitLog(String text, long count, Guest g) throws Exception {
        long end = System.currentTimeMillis() + 30_000;
        while (logged(text) < count) {
            if (!g.process().isAlive() || System.currentTimeMillis() > end) {
                throw new AssertionError("not " + count + " log lines with '" + text + "': " + logs);
            }
            Thread.sleep(5);
        }
    }

    void awaitLog(String text, Guest g) throws Exception {
        awaitLog(text, 1, g);
    }

    void awaitRoundsAbove(Guest g, long rounds) throws Exception {
        long end = System.currentTimeMillis() + 30_000;
        while (rounds(g) <= rounds) {
            if (!g.process().isAlive() || System.currentTimeMillis() > end) {
                String out = g.process().isAlive() ? "(still running)"
                        : new String(g.process().getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                throw new AssertionError("the guest did not get past round " + rounds + ": " + out + "\nbackend: " + logs);
            }
            Thread.sleep(5);
        }
    }

    /**
     * Tells the guest to stop and checks what it counted: every request answered once with its
     * id and operation, every byte read back right (it exits non-zero otherwise), no device
     * failed, the backend's state still Connected. Returns its last words.
     */
    String finish(Guest g) throws Exception {
        world.xs.write("/local/domain/" + g.domid() + "/data/reattach-stop", "1");
        assertThat(g.process().waitFor(60, TimeUnit.SECONDS)).as("C frontend finished").isTrue();
        String out = new String(g.process().getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(g.process().exitValue()).as(out + "\nbackend: " + logs).isZero();
        assertThat(out).contains("every byte checked");
        assertThat(logs).noneMatch(l -> l.contains("fatal") || l.contains("refused"));
        assertThat(world.xs.read(g.vbd().backendPath() + "/state")).isEqualTo("4");
        return out;
    }

    @Override
    public void close() {
        connections.forEach(EmbeddedXenStore::close);
        world.close();
    }
}
