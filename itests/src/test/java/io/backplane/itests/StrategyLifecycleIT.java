package io.backplane.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Dictionary;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.wiring.FrameworkWiring;
import org.osgi.service.log.LogListener;
import org.osgi.service.log.LogReaderService;

/**
 * Each ring strategy bundle stopped, started, updated, uninstalled and installed again (its jar
 * dropped into the deploy directory) while a guest's netfront (2 queues) and blkfront run traffic
 * on it (the in-memory sink loops every frame back to the guest, which checks its bytes). Before each stop, update and uninstall both devices are put on the bundle's strategy
 * ({@code pv:strategy}); when the call returns they already run on another (the move happens
 * while the service is unregistered), and a strategy that comes back and is the fittest takes
 * them back ({@code autoSwap}). No device reconnects, no frame fails or is dropped, no response
 * comes twice (answered never above sent), every frame comes back to the guest once, in order
 * and intact (the guest counts those missing and those twice per sending queue), every block
 * request is answered and every sector reads back as written.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class StrategyLifecycleIT extends RuntimeTestBase {
    /** Strategy bundles and the strategy each registers; persistent is the fittest for the guest's rings. */
    private static final Map<String, String> STRATEGIES = Map.of("backplane-ring-persistent", "persistent",
            "backplane-ring-grant-copy", "grant-copy", "backplane-ring-map", "map-batched-unmap");
    private static final List<String> ORDER = List.of("backplane-ring-persistent", "backplane-ring-grant-copy",
            "backplane-ring-map");
    private static final String FITTEST = "persistent";

    private final List<String> log = new CopyOnWriteArrayList<>();
    private RuntimeShell shell;
    private GuestTraffic traffic;
    private Map<String, Long> start;

    /**
     * Zero-copy serves what persistent serves (ranked below it) and would take persistent's rings
     * when persistent goes: out of the way, so that these tests see the three strategies alone.
     * (Whole-memory stays: it refuses this untrusted domain.)
     */
    @Before
    public void stopZeroCopy() throws Exception {
        Optional<Bundle> zeroCopy = bundle("backplane-ring-zerocopy");
        if (zeroCopy.isPresent()) {
            zeroCopy.get().stop();
        }
    }

    @Test
    public void everyStrategyBundleComesAndGoesUnderTrafficWithoutAReconnect() throws Exception {
        Path stateDir = stateDir();
        Path deploy = Path.of(context.getProperty("felix.fileinstall.dir"));
        Files.createDirectories(deploy);
        shell = new RuntimeShell(stateDir);
        LogReaderService reader = context.getService(context.getServiceReference(LogReaderService.class));
        LogListener listener = e -> log.add(e.getMessage());
        reader.addLogListener(listener);
        Dictionary<String, Object> backend = new Hashtable<>();
        backend.put("autoSwap", true);
        configAdmin.getConfiguration("io.backplane.backend", "?").update(backend);
        // The guest's frames come back to it through the in-memory sink, where it checks each one.
        Dictionary<String, Object> sink = new Hashtable<>();
        sink.put("mode", "memory");
        sink.put("memory_loopback", true);
        configAdmin.getConfiguration("io.backplane.netback.sink", "?").update(sink);

        traffic = GuestTraffic.start(context, configAdmin, "strategies");
        RuntimeShell.await("both devices on " + FITTEST, 30_000, () -> onlyOn(FITTEST));
        start = traffic.counters();
        StringBuilder report = new StringBuilder();
        for (String symbolicName : ORDER) {
            String strategy = STRATEGIES.get(symbolicName);
            String otherwise = strategy.equals(FITTEST) ? "grant-copy" : FITTEST;
            Bundle b = bundle(symbolicName).orElseThrow();
            URI jar = URI.create(b.getLocation());

            putBothOn(strategy);
            long t0 = System.nanoTime();
            b.stop();
            long stopMicros = (System.nanoTime() - t0) / 1000;
            assertMovedOff(strategy, otherwise, "stop of " + symbolicName);
            b.start();
            awaitBothOn(FITTEST, "start of " + symbolicName);

            putBothOn(strategy);
            t0 = System.nanoTime();
            b.update();
            long updateMicros = (System.nanoTime() - t0) / 1000;
            awaitMoves(strategy, "update of " + symbolicName);
            awaitBothOn(FITTEST, "update of " + symbolicName);

            putBothOn(strategy);
            t0 = System.nanoTime();
            b.uninstall();
            long uninstallMicros = (System.nanoTime() - t0) / 1000;
            assertMovedOff(strategy, otherwise, "uninstall of " + symbolicName);
            refresh(b);
            Files.copy(Path.of(jar), deploy.resolve(symbolicName + ".jar"), StandardCopyOption.REPLACE_EXISTING);
            RuntimeShell.await(symbolicName + " installed again from " + deploy, 30_000,
                    () -> bundle(symbolicName).filter(x -> x.getState() == Bundle.ACTIVE).isPresent());
            awaitBothOn(FITTEST, "install of " + symbolicName + " from the deploy directory");
            // Printed, not asserted: how long each call was held while both devices moved off.
            report.append(String.format("%n  %-26s stop %d us, update %d us, uninstall %d us (both devices moved in each);"
                    + " then deployed: %s", symbolicName, stopMicros, updateMicros, uninstallMicros, traffic.counters()));
        }
        long sent = traffic.counters().get("vif tx-sent");
        RuntimeShell.await("every frame sent so far (" + sent + ") back and verified", 30_000,
                () -> traffic.counters().get("vif rx-verified") >= sent);
        Map<String, Long> c = traffic.stopBlock();
        checkCounters("the end");
        assertTrue("the guest runs " + c, traffic.guest.isAlive());
        assertTrue("frames came back verified " + c, c.get("vif rx-verified") > 0);
        reader.removeLogListener(listener);
        System.out.println("StrategyLifecycleIT: " + ORDER.size() + " strategy bundles under traffic" + report
                + "\n  final " + c);
    }

    /**
     * The last strategy going away leaves nothing to swap to: the devices close (every request
     * taken answered first), and connect again once a strategy is back; blkfront re-issues what
     * was in flight, so no block request is lost.
     */
    @Test
    public void devicesCloseWhenTheLastStrategyGoesAndConnectWhenOneComesBack() throws Exception {
        Path stateDir = stateDir();
        shell = new RuntimeShell(stateDir);
        traffic = GuestTraffic.start(context, configAdmin, "laststrategy");
        List<Bundle> strategies = ORDER.stream().map(n -> bundle(n).orElseThrow()).toList();
        Map<String, Long> before = traffic.counters();
        for (Bundle b : strategies) {
            b.stop();
        }
        assertFalse("no device connected without a strategy: " + strategies(), traffic.connected());
        strategies.get(1).start(); // grant-copy
        traffic.awaitProgress("grant-copy's return");
        RuntimeShell.await("both devices on grant-copy", 30_000, () -> onlyOn("grant-copy"));
        strategies.get(0).start();
        strategies.get(2).start();
        traffic.awaitProgress("every strategy back");
        Map<String, Long> c = traffic.stopBlock();
        assertTrue("the vbd reconnected " + c, c.get("vbd reconnects") > before.get("vbd reconnects"));
        assertEquals("no frame came back bad " + c, 0L, (long) c.get("vif rx-bad"));
        System.out.println("StrategyLifecycleIT: every strategy stopped under traffic, then back: " + c
                + "\n  backend states now: " + shell.ok("pv:devices"));
    }

    private Optional<Bundle> bundle(String symbolicName) {
        return Arrays.stream(context.getBundles()).filter(b -> symbolicName.equals(b.getSymbolicName())).findFirst();
    }

    private void refresh(Bundle b) throws InterruptedException {
        CountDownLatch refreshed = new CountDownLatch(1);
        context.getBundle(0).adapt(FrameworkWiring.class).refreshBundles(List.of(b), e -> {
            if (e.getType() == FrameworkEvent.PACKAGES_REFRESHED) {
                refreshed.countDown();
            }
        });
        assertTrue("refresh after uninstalling " + b.getSymbolicName(), refreshed.await(60, TimeUnit.SECONDS));
    }

    /** The strategy per device type, from pv:devices (TYPE is the 2nd column, STRATEGY the 6th). */
    private Map<String, String> strategies() {
        Map<String, String> out = new HashMap<>();
        try {
            for (String line : shell.ok("pv:devices").lines().skip(1).toList()) {
                String[] cols = line.trim().split("\\s+");
                if (cols.length > 5) {
                    out.put(cols[1], cols[5]);
                }
            }
        } catch (IOException e) {
            throw new AssertionError("pv:devices: " + e.getMessage(), e);
        }
        return out;
    }

    private boolean onlyOn(String strategy) {
        Map<String, String> s = strategies();
        return strategy.equals(s.get("vif")) && strategy.equals(s.get("vbd"));
    }

    private void putBothOn(String strategy) throws Exception {
        log.clear();
        for (String dev : List.of("strategies/vif/0", "strategies/vbd/51712")) {
            shell.ok("pv:strategy " + dev + " " + strategy);
        }
        assertTrue("both devices on " + strategy + ": " + strategies(), onlyOn(strategy));
        traffic.awaitProgress("moving both devices to " + strategy);
    }

    /** Log lines saying a device moved off {@code strategy} as it went away. */
    private long moves(String strategy) {
        String said = ": ring strategy " + strategy + " is going away; moved at a batch boundary";
        return log.stream().filter(m -> m.contains(said)).count();
    }

    /** The log says so for both devices (log listeners are told asynchronously). */
    private void awaitMoves(String strategy, String what) throws InterruptedException {
        RuntimeShell.await("a log line per device moved off " + strategy + " by the " + what + " (" + log + ")", 10_000,
                () -> moves(strategy) == 2);
    }

    private void assertMovedOff(String strategy, String to, String what) throws Exception {
        // Checked at once: the move is done before the service's unregistration completes.
        assertTrue("both devices moved to " + to + " by the time the " + what + " returned: " + strategies() + " " + log,
                onlyOn(to));
        awaitMoves(strategy, what);
        awaitTraffic(what);
    }

    private void awaitBothOn(String strategy, String what) throws Exception {
        RuntimeShell.await("both devices back on " + strategy + " after the " + what + " (" + strategies() + ")", 30_000,
                () -> onlyOn(strategy));
        awaitTraffic(what);
    }

    /** Frames and block requests go on after {@code what}: 100 more each answered, 100 more frames back and verified. */
    private void awaitTraffic(String what) throws Exception {
        long verified = traffic.counters().get("vif rx-verified");
        traffic.awaitProgress(what);
        RuntimeShell.await("100 more frames looped back and verified by the guest after the " + what, 30_000,
                () -> traffic.counters().get("vif rx-verified") >= verified + 100);
        checkCounters(what);
    }

    /** No reconnect since the start, no frame failed or dropped, none answered twice, no bad frame or block request. */
    private void checkCounters(String what) {
        Map<String, Long> c = traffic.counters();
        String at = " after the " + what + ": " + c;
        assertEquals("the vif never reconnected" + at, start.get("vif connections"), c.get("vif connections"));
        assertEquals("the vbd never reconnected" + at, start.get("vbd reconnects"), c.get("vbd reconnects"));
        assertEquals("no frame failed" + at, 0L, (long) c.get("vif tx-failed"));
        assertEquals("no frame dropped" + at, 0L, (long) c.get("vif tx-dropped"));
        assertEquals("no frame came back bad" + at, 0L, (long) c.get("vif rx-bad"));
        assertEquals("no frame came back twice" + at, 0L, (long) c.get("vif rx-duplicates"));
        assertEquals("no frame is missing behind a later one of its queue" + at, 0L, (long) c.get("vif rx-missing"));
        assertFalse("no frame answered twice" + at, c.get("vif tx-answered") > c.get("vif tx-sent"));
        assertFalse("no block request answered twice" + at, c.get("vbd answered") > c.get("vbd sent"));
        assertEquals("no block request failed" + at, 0L, (long) c.get("vbd failed"));
        assertEquals("no sector read back wrong" + at, 0L, (long) c.get("vbd mismatches"));
    }
}
