package io.backplane.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.backplane.api.xenstore.XenStore;
import io.backplane.api.xenstore.XsWatch;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.wiring.FrameworkWiring;
import org.osgi.service.log.LogEntry;
import org.osgi.service.log.LogReaderService;

/**
 * The two bundles whose state is the domains themselves, each handing it to its updated
 * successor through a holder bundle. XenStore (every node and connection) hands over its store and
 * open sockets, as xenstored's live update does: the guest runs on, its devices stay Connected
 * without a reconnect, Xen's own tools see the same tree and keep their connection and watch, and
 * every block request is answered. The sim hypervisor hands over its domains, event channels,
 * grant pins, dom0's mappings and the guests' open sockets: the same, with the same domid, and no
 * backend is restarted.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class StatefulBundleUpdateIT extends RuntimeTestBase {
    @Test
    public void updatingTheSimHypervisorUnderTrafficKeepsTheDomainItsDevicesAndEveryConnection() throws Exception {
        GuestTraffic t = GuestTraffic.start(context, configAdmin, "simmed");
        Map<String, Long> before = t.counters();

        Bundle sim = bundle("backplane-hypervisor-sim");
        update(sim);
        t.awaitProgress("updating the sim hypervisor");
        // felix:stop and felix:start: the same hand-over, held by the holder while the bundle is stopped.
        sim.stop();
        sim.start();
        t.awaitProgress("stopping and starting the sim hypervisor");

        Map<String, Long> after = t.counters();
        assertTrue("the guest's devices are Connected on both ends", t.connected());
        for (String k : new String[] {"vbd reconnects", "vbd reissued", "vif connections", "vif tx-dropped", "vif tx-failed"}) {
            assertEquals(k + " unchanged by the update: " + before + " -> " + after, before.get(k), after.get(k));
        }
        RuntimeShell shell = new RuntimeShell(stateDir());
        String domains = shell.ok("sim:domains");
        assertTrue("the sim holds the same domain: " + domains, domains.lines().anyMatch(l -> l.matches(t.domid + "\\s+simmed\\s+running.*")));
        Map<String, Long> c = t.stopBlock();
        RuntimeShell.await("every test frame back", 20_000, () -> t.counters().get("vif rx-missing") == 0);
        assertTrue("the guest runs " + c, t.guest.isAlive());
        assertEquals("no device reconnected " + c, before.get("vbd reconnects"), c.get("vbd reconnects"));
        assertEquals("three hand-overs (update, refresh, stop and start), each taking the domain: " + messages("taken over"), 3,
                messages("simulated hypervisor: taken over from the previous sim bundle: domains [" + t.domid + "]").size());
        assertFalse(logged("destroying domains [" + t.domid + "]"));
        System.out.println("StatefulBundleUpdateIT: sim hypervisor updated under traffic: before " + before + "\n  final " + c
                + "\n  " + String.join("\n  ", messages("simulated hypervisor: taken over")));
        shell.ok("xl:destroy simmed");
        assertFalse(logged("Exception"));
    }

    @Test
    public void updatingXenStoreUnderTrafficKeepsTheDomainItsDevicesAndEveryConnection() throws Exception {
        GuestTraffic t = GuestTraffic.start(context, configAdmin, "stored");
        Path stateDir = stateDir();
        String domain = "/local/domain/" + t.domid;
        String backends = "/local/domain/0/backend";
        String tree = tree(stateDir, domain) + tree(stateDir, backends);
        // A connection of Xen's own tools, with a watch, open across the update.
        ProcessBuilder pb = new ProcessBuilder("xenstore-watch", "-n", "2", "/live-update-probe");
        pb.environment().put("XENSTORED_RUNDIR", stateDir.resolve("xenstored").toString());
        Process watch = pb.start();
        // And an in-process watch of this bundle's, on the XenStore service it keeps across the update.
        LinkedBlockingQueue<String> events = new LinkedBlockingQueue<>();
        XenStore service = context.getService(context.getServiceReference(XenStore.class));
        XsWatch inProcess = service.watch("/live-update-probe", "it", (path, token) -> events.add(path));
        try {
            byte[] first = new byte[19];
            assertEquals("the watch's initial event", 19, watch.getInputStream().readNBytes(first, 0, 19));
            Map<String, Long> before = t.counters();

            update(bundle("backplane-xenstore"));
            t.awaitProgress("updating XenStore");

            Map<String, Long> after = t.counters();
            assertTrue("the guest's devices are Connected on both ends", t.connected());
            for (String k : new String[] {"vbd reconnects", "vbd reissued", "vif connections", "vif tx-dropped", "vif tx-failed"}) {
                assertEquals(k + " unchanged by the update: " + before + " -> " + after, before.get(k), after.get(k));
            }
            assertEquals("xenstore-ls sees the same tree", tree, tree(stateDir, domain) + tree(stateDir, backends));
            RuntimeShell shell = new RuntimeShell(stateDir);
            events.clear(); // the initial events, of registering before and (again, on the new store) after the update
            shell.ok("xs:write /live-update-probe 1");
            assertTrue("xenstore-watch saw the write made after the update", watch.waitFor(20, TimeUnit.SECONDS));
            assertEquals("/live-update-probe\n", new String(watch.getInputStream().readAllBytes()));
            assertTrue("the XenStore service is the one from before the update",
                    service == context.getService(context.getServiceReference(XenStore.class)));
            long end = System.currentTimeMillis() + 20_000;
            while (!events.contains("/live-update-probe")) {
                assertTrue("the in-process watch fired after the update: " + events, System.currentTimeMillis() < end);
                Thread.sleep(20);
            }

            Map<String, Long> c = t.stopBlock();
            RuntimeShell.await("every test frame back", 20_000, () -> t.counters().get("vif rx-missing") == 0);
            assertTrue("the guest runs " + c, t.guest.isAlive());
            assertEquals("no device reconnected " + c, before.get("vbd reconnects"), c.get("vbd reconnects"));
            assertTrue(logged("XenStore: taken over from the previous XenStore bundle"));
            assertFalse(logged("destroying domains [" + t.domid + "]"));
            System.out.println("StatefulBundleUpdateIT: XenStore updated under traffic: before " + before + "\n  final " + c);
            shell.ok("xl:destroy stored");
        } finally {
            watch.destroyForcibly();
            inProcess.close();
        }
        assertFalse(logged("Exception"));
    }

    /** {@code xenstore-ls -f -p} of {@code path} (Xen's own tool on the dom0 socket) without the guest's moving counters. */
    private static String tree(Path stateDir, String path) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("xenstore-ls", "-f", "-p", path).redirectErrorStream(true);
        pb.environment().put("XENSTORED_RUNDIR", stateDir.resolve("xenstored").toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        assertEquals("xenstore-ls " + path + ": " + out, 0, p.exitValue());
        return out.lines().filter(l -> !l.contains("/stats/")).collect(Collectors.joining("\n"));
    }

    private Bundle bundle(String symbolicName) {
        return Arrays.stream(context.getBundles()).filter(x -> symbolicName.equals(x.getSymbolicName())).findFirst().orElseThrow();
    }

    /** felix:update, then felix:refresh. */
    private void update(Bundle b) throws Exception {
        b.update();
        CountDownLatch refreshed = new CountDownLatch(1);
        context.getBundle(0).adapt(FrameworkWiring.class).refreshBundles(List.of(b), e -> {
            if (e.getType() == FrameworkEvent.PACKAGES_REFRESHED) {
                refreshed.countDown();
            }
        });
        assertTrue(refreshed.await(60, TimeUnit.SECONDS));
    }

    private List<String> messages(String text) {
        LogReaderService logs = context.getService(context.getServiceReference(LogReaderService.class));
        return Collections.list(logs.getLog()).stream().map(LogEntry::getMessage).filter(m -> m.contains(text)).toList();
    }

    private boolean logged(String text) {
        LogReaderService logs = context.getService(context.getServiceReference(LogReaderService.class));
        return Collections.list(logs.getLog()).stream().map(LogEntry::getMessage).anyMatch(m -> m.contains(text));
    }
}
