package io.backplane.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;

import io.backplane.api.xenstore.XenStore;

/**
 * ConfigAdmin changes to the XenStore service in the real SCR: new quotas apply to the running
 * store (same service, same nodes, the new limit in xs:stat); a mode change restarts the service,
 * so its users rebind to a fresh store.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class XenStoreReconfigurationIT extends RuntimeTestBase {
    private static final String PID = "io.backplane.xenstore";

    @Test
    public void quotasApplyLiveAndOnlyAModeChangeRestartsTheStore() throws Exception {
        ServiceReference<XenStore> before = awaitService();
        XenStore xs = context.getService(before);
        xs.write("/local/domain/0/itest/kept", "still here");
        xs.introduceDomain(7, 0x1007, 1);

        update(props("embedded", 50));
        await("xs:stat shows the new node quota", () -> stat().lines().anyMatch(l -> l.startsWith("7 ") && l.contains("/50")));
        ServiceReference<XenStore> after = awaitService();
        assertEquals("the service was not re-registered", serviceId(before), serviceId(after));
        assertEquals("still here", xs.read("/local/domain/0/itest/kept"));
        assertTrue(xs.isDomainIntroduced(7));

        // Another mode: the service leaves (nothing listens on that socket, so it cannot come back in socket mode) ...
        update(props("socket", 1000));
        await("the XenStore service leaves", () -> context.getServiceReference(XenStore.class) == null
                || serviceId(context.getServiceReference(XenStore.class)) != serviceId(before));
        // ... and embedded again starts a fresh store, which the users of the service now see.
        update(props("embedded", 1000));
        XenStore[] fresh = new XenStore[1];
        await("a new XenStore service", () -> {
            ServiceReference<XenStore> ref = context.getServiceReference(XenStore.class);
            fresh[0] = ref == null || serviceId(ref) == serviceId(before) ? null : context.getService(ref);
            return fresh[0] != null;
        });
        assertFalse("the restarted store is a new one", fresh[0].exists("/local/domain/0/itest/kept"));
        // The xs: commands rebind to the new service a moment later.
        await("xs:stat answers from the new store", () -> stat().contains("mode: embedded"));
    }

    private Dictionary<String, Object> props(String mode, int nodes) {
        Dictionary<String, Object> p = new Hashtable<>();
        p.put("mode", mode);
        p.put("socket.path", stateDir().resolve("no-xenstored-here").toString());
        p.put("quota.nodes", nodes);
        return p;
    }

    private void update(Dictionary<String, Object> p) throws IOException {
        configAdmin.getConfiguration(PID, "?").update(p);
    }

    private ServiceReference<XenStore> awaitService() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            ServiceReference<XenStore> ref = context.getServiceReference(XenStore.class);
            if (ref != null) {
                return ref;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no XenStore service within 20 s");
    }

    private static long serviceId(ServiceReference<?> ref) {
        return (Long) ref.getProperty(Constants.SERVICE_ID);
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError(what + ": not within 20 s");
    }

    private String stat() {
        try {
            return shell("xs:stat");
        } catch (IOException | AssertionError e) {
            return "";
        }
    }
}
