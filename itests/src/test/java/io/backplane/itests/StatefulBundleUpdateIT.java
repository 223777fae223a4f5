package io.backplane.itests;

import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.backplane.api.xenstore.XenStore;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.inject.Inject;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.wiring.FrameworkWiring;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.log.LogEntry;
import org.osgi.service.log.LogReaderService;

/**
 * The two bundles whose state is the domains themselves: the sim hypervisor (event channels,
 * grant tables, the guests' sockets) and XenStore (every node and connection). Their update
 * cannot keep a guest alive; it ends the domains cleanly instead: the operator log says so, the
 * guest process exits, nothing of the domain stays in XenStore or the sim, and a new guest then
 * runs traffic as before.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class StatefulBundleUpdateIT {
    @Inject
    private BundleContext context;
    @Inject
    private ConfigurationAdmin configAdmin;

    @Configuration
    public Option[] config() throws IOException {
        return BackplaneOptions.runtime();
    }

    @Test
    public void updatingTheSimHypervisorEndsItsDomainsCleanly() throws Exception {
        endsCleanly("backplane-hypervisor-sim", "simmed");
    }

    @Test
    public void updatingXenStoreEndsTheDomainsCleanly() throws Exception {
        endsCleanly("backplane-xenstore", "stored");
    }

    private void endsCleanly(String symbolicName, String guestName) throws Exception {
        GuestTraffic t = GuestTraffic.start(context, configAdmin, guestName);
        Bundle b = Arrays.stream(context.getBundles()).filter(x -> symbolicName.equals(x.getSymbolicName())).findFirst().orElseThrow();
        b.update();
        CountDownLatch refreshed = new CountDownLatch(1);
        context.getBundle(0).adapt(FrameworkWiring.class).refreshBundles(List.of(b), e -> {
            if (e.getType() == FrameworkEvent.PACKAGES_REFRESHED) {
                refreshed.countDown();
            }
        });
        assertTrue(refreshed.await(60, TimeUnit.SECONDS));

        String stopping = "simulated hypervisor stopping: destroying domains [" + t.domid + "]";
        RuntimeShell.await("the log line '" + stopping + "'", 20_000, () -> logged(stopping));
        assertTrue("the guest process exits", t.guest.onExit().orTimeout(20, TimeUnit.SECONDS)
                .handle((h, e) -> !t.guest.isAlive()).join());
        RuntimeShell shell = new RuntimeShell(Path.of(context.getProperty(BackplaneOptions.STATE_DIR_PROPERTY)));
        RuntimeShell.await("domain " + t.domid + " gone from XenStore, the sim and xl:list", 20_000, () -> {
            try {
                return !shell.ok("xl:list").contains(guestName) && shell.ok("sim:domains").contains("dom0 event channel ports in use: 0")
                        && !exists("/local/domain/" + t.domid) && !exists("/local/domain/0/backend/vif/" + t.domid)
                        && !exists("/local/domain/0/backend/vbd/" + t.domid);
            } catch (IOException | AssertionError e) {
                return false; // the shell's commands rebind to the new services
            }
        });
        // The platform is whole again: a new guest runs traffic on both devices.
        GuestTraffic again = GuestTraffic.start(context, configAdmin, guestName + "2");
        again.stopBlock();
        shell.ok("xl:destroy " + guestName + "2");
        assertFalse(logged("Exception"));
    }

    private boolean exists(String path) {
        ServiceReference<XenStore> ref = context.getServiceReference(XenStore.class);
        return ref == null || context.getService(ref).exists(path);
    }

    private boolean logged(String text) {
        LogReaderService logs = context.getService(context.getServiceReference(LogReaderService.class));
        return Collections.list(logs.getLog()).stream().map(LogEntry::getMessage).anyMatch(m -> m.contains(text));
    }
}
