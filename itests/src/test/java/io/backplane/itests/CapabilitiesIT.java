package io.backplane.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import io.backplane.api.ring.RingStrategy;
import io.backplane.api.xenstore.XenStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.inject.Inject;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceReference;
import org.osgi.util.tracker.ServiceTracker;

/**
 * Only real features are offered, in the runtime: with the bundles whose strategies serve
 * persistent grants stopped (ring-persistent, and ring-zerocopy, which serves the same rings), a vbd's
 * backend directory never says {@code feature-persistent=1} (blkback's capabilities track the
 * strategies that serve it through DS); once the bundle is back, the next vbd is offered it and
 * its rings run on the persistent strategy.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class CapabilitiesIT extends RuntimeTestBase {
    private static final Pattern CREATED = Pattern.compile("Created domain (\\d+)");
    private static final String VBD_WORKLOAD = "ops=200,depth=4,max-sectors=16,region=512,fill=1,verify=1";
    private static final String PERSISTENT_FILTER = "(" + RingStrategy.NAME + "=persistent)";

    @Inject
    private XenStore xenStore;

    @Test
    public void aVbdIsOfferedPersistentGrantsOnlyWhileTheirStrategyBundleRuns() throws Exception {
        Dictionary<String, Object> props = new Hashtable<>();
        props.put("guestCommand", BackplaneOptions.guestCommand("--vbd " + VBD_WORKLOAD));
        configAdmin.getConfiguration("io.backplane.toolstack", "?").update(props);

        persistentStrategy();
        List<Bundle> serving = new ArrayList<>();
        for (ServiceReference<RingStrategy> r : context.getServiceReferences(RingStrategy.class,
                "(" + RingStrategy.SERVES + "=blkif:feature-persistent)")) {
            serving.add(r.getBundle());
        }
        for (Bundle b : serving) {
            b.stop();
        }
        try {
            String be = connectedVbd("nopersist");
            assertEquals("no strategy serves persistent grants", "0",
                    xenStore.tryRead(be + "/feature-persistent").orElse("absent"));
            String devices = shell("pv:devices");
            assertTrue(devices, devices.lines().anyMatch(l -> l.startsWith("nopersist") && l.contains("grant-copy")));
            assertFalse(devices, devices.lines().anyMatch(l -> l.startsWith("nopersist") && l.contains("persistent")));
            shell("xl:destroy nopersist");
        } finally {
            for (Bundle b : serving) {
                b.start();
            }
        }

        persistentStrategy();
        String be = connectedVbd("persist");
        assertEquals("1", xenStore.tryRead(be + "/feature-persistent").orElse("absent"));
        String devices = shell("pv:devices");
        assertTrue(devices, devices.lines().anyMatch(l -> l.startsWith("persist") && l.contains("persistent")));
        shell("xl:destroy persist");
    }

    /** The persistent strategy's service, once registered. */
    private ServiceReference<RingStrategy> persistentStrategy() throws Exception {
        ServiceTracker<RingStrategy, RingStrategy> tracker =
                new ServiceTracker<>(context, context.createFilter(PERSISTENT_FILTER), null);
        tracker.open();
        try {
            assertNotNull("the persistent strategy is registered", tracker.waitForService(10_000));
            return tracker.getServiceReference();
        } finally {
            tracker.close();
        }
    }

    /** Creates guest {@code name} with one disk and returns its backend directory once it is Connected. */
    private String connectedVbd(String name) throws Exception {
        Path image = stateDir().resolve(name + ".img");
        Files.write(image, new byte[4 << 20]);
        Path cfg = stateDir().resolve(name + ".cfg");
        Files.writeString(cfg, "name = \"" + name + "\"\nmemory = 64\nvcpus = 1\n"
                + "disk = [ \"format=raw,vdev=xvda,access=rw,target=" + image + "\" ]\n");
        // The toolstack component restarts with the new guest command: retry until it has.
        String created = null;
        long end = System.currentTimeMillis() + 10_000;
        while (created == null) {
            try {
                String out = shell("xl:create " + cfg);
                created = out.contains("guest process") ? out : null;
            } catch (AssertionError | IOException e) {
                if (System.currentTimeMillis() > end) {
                    throw e;
                }
                Thread.sleep(200);
            }
        }
        Matcher m = CREATED.matcher(created);
        assertTrue(created, m.find());
        String be = "/local/domain/0/backend/vbd/" + m.group(1) + "/51712";
        RuntimeShell.await(name + "'s vbd to connect", 30_000,
                () -> "4".equals(xenStore.tryRead(be + "/state").orElse("")));
        return be;
    }
}
