package io.backplane.itests;

import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.wiring.BundleRevision;
import org.osgi.framework.wiring.FrameworkWiring;
import org.osgi.service.log.LogReaderService;

/**
 * Each Backplane bundle updated in turn (update and refresh, as {@code felix:update} and
 * {@code felix:refresh} do) while a guest's netfront and blkfront run traffic: the guest keeps
 * running; a device whose backend restarted goes through Closed and reconnects, its frontend
 * re-issuing what was in flight; in the end every block request is answered and every sector
 * reads back as written, and the frames are counted.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class BundleUpdateIT extends RuntimeTestBase {
    /** Every bundle that runs no domain state of its own, in the order updated. */
    static final List<String> UPDATED = List.of("backplane-policy", "backplane-backend-core", "backplane-netback",
            "backplane-blkback", "backplane-ring-grant-copy", "backplane-ring-persistent", "backplane-ring-map",
            "backplane-ring-core", "backplane-logging", "backplane-control", "backplane-toolstack");

    private Bundle bundle(String symbolicName) {
        return Arrays.stream(context.getBundles()).filter(b -> symbolicName.equals(b.getSymbolicName())).findFirst()
                .orElseThrow(() -> new AssertionError("no bundle " + symbolicName));
    }

    /**
     * felix:update then felix:refresh of one bundle (its dependents restart with it); no refresh
     * when this test's own bundle depends on it (the control client): that would restart the test.
     */
    private void update(Bundle b) throws Exception {
        b.update();
        FrameworkWiring wiring = context.getBundle(0).adapt(FrameworkWiring.class);
        if (!wiring.getDependencyClosure(List.of(b)).contains(context.getBundle())) {
            CountDownLatch refreshed = new CountDownLatch(1);
            wiring.refreshBundles(List.of(b), e -> {
                if (e.getType() == FrameworkEvent.PACKAGES_REFRESHED) {
                    refreshed.countDown();
                }
            });
            assertTrue("refresh of " + b.getSymbolicName(), refreshed.await(60, TimeUnit.SECONDS));
        }
        long end = System.currentTimeMillis() + 30_000;
        while (true) {
            List<String> notActive = new ArrayList<>();
            for (Bundle x : context.getBundles()) {
                boolean fragment = (x.adapt(BundleRevision.class).getTypes() & BundleRevision.TYPE_FRAGMENT) != 0;
                if (!fragment && x.getState() != Bundle.ACTIVE) {
                    notActive.add(x.getSymbolicName());
                }
            }
            if (notActive.isEmpty()) {
                return;
            }
            if (System.currentTimeMillis() > end) {
                fail("not active 30 s after updating " + b.getSymbolicName() + ": " + notActive);
            }
            Thread.sleep(50);
        }
    }

    @Test
    public void everyBundleUpdatedInTurnUnderTrafficKeepsTheGuestAndLosesNoBlockRequest() throws Exception {
        GuestTraffic t = GuestTraffic.start(context, configAdmin, "durable");
        StringBuilder report = new StringBuilder();
        for (String name : UPDATED) {
            Map<String, Long> before = t.counters();
            update(bundle(name));
            t.awaitProgress("updating " + name);
            Map<String, Long> after = t.counters();
            report.append(String.format("%n  %-26s vbd reconnects +%d, re-issued +%d; vif connections +%d", name,
                    after.get("vbd reconnects") - before.get("vbd reconnects"), after.get("vbd reissued") - before.get("vbd reissued"),
                    after.get("vif connections") - before.get("vif connections")));
        }
        Map<String, Long> c = t.stopBlock();
        assertTrue("the guest runs " + c, t.guest.isAlive());
        assertTrue("backends restarted under the guest, which reconnected " + c, c.get("vbd reconnects") > 0);
        String list = new RuntimeShell(stateDir()).ok("xl:list");
        assertTrue("the guest's domain is still the one created: " + list,
                list.lines().anyMatch(l -> l.startsWith("durable ") && l.matches(".*\\s" + t.domid + "\\s.*")));
        LogReaderService logs = context.getService(context.getServiceReference(LogReaderService.class));
        String takenOver = "Domain " + t.domid + " (durable) taken over from the previous toolstack";
        assertTrue(takenOver, Collections.list(logs.getLog()).stream().anyMatch(e -> e.getMessage().startsWith(takenOver)));
        System.out.println("BundleUpdateIT: " + UPDATED.size() + " bundles updated under traffic" + report + "\n  final " + c);
    }
}
