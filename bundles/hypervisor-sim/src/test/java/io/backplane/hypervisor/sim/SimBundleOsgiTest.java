package io.backplane.hypervisor.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.hypervisor.DomainInfo;
import io.backplane.api.hypervisor.Domains;
import io.backplane.api.hypervisor.EventChannel;
import io.backplane.api.hypervisor.EventChannels;
import io.backplane.api.hypervisor.GrantTables;
import io.backplane.testkit.osgi.ClasspathBundles;
import io.backplane.testkit.osgi.TestFramework;
import io.backplane.xs.client.SocketXenStore;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.launch.Framework;
import org.osgi.util.tracker.ServiceTracker;

/**
 * The real bundles in Felix with SCR: the native bundle (jnr-ffi embedded) resolves and loads
 * libc inside OSGi, the sim component comes up on the XenStore service and registers every SPI
 * service, and a domain created through the service exists on disk and in XenStore.
 * The API packages come from the system bundle so this test can call the services.
 */
class SimBundleOsgiTest {
    @TempDir
    Path dir;

    @Test
    void theSimRunsAsADeclarativeServicesComponentInFelix() throws Exception {
        Framework felix = TestFramework.start(dir.resolve("felix-cache"), null, Map.of("backplane.state.dir", dir.toString()));
        try {
            BundleContext ctx = felix.getBundleContext();
            List<Bundle> bundles = new ArrayList<>();
            for (String name : List.of("org.osgi.util.function", "org.osgi.util.promise", "org.osgi.service.component",
                    "org.apache.felix.log", "org.apache.felix.configadmin", "org.apache.felix.scr",
                    "org.apache.felix.gogo.runtime", "bundles/native/", "bundles/ring-core/", "bundles/sim-abi/",
                    "bundles/xs-client/", "bundles/xenstore-holder/", "bundles/xenstore/", "bundles/hypervisor-sim-holder/",
                    "bundles/hypervisor-sim/")) {
                bundles.add(ctx.installBundle("reference:" + ClasspathBundles.find(name).toURI()));
            }
            for (Bundle b : bundles) {
                if (b.getHeaders().get(Constants.FRAGMENT_HOST) == null) {
                    b.start();
                }
            }
            Domains domains = await(ctx, Domains.class);
            ServiceReference<Domains> ref = ctx.getServiceReference(Domains.class);
            assertThat(ref.getProperty("backplane.hypervisor")).isEqualTo("sim");
            assertThat(await(ctx, GrantTables.class)).isSameAs(domains);
            EventChannels evtchn = await(ctx, EventChannels.class);
            // XenStore checked as any client sees it: through the daemon's dom0 socket.
            SocketXenStore xs = new SocketXenStore(dir.resolve("xenstored/socket"));

            DomainInfo d = domains.create(new DomainConfig("osgi-guest", 8, 1));
            assertThat(dir.resolve("domains/" + d.domid() + "/memory")).exists();
            assertThat(dir.resolve("domains/" + d.domid() + "/xenstore.sock")).exists();
            assertThat(xs.read("/local/domain/" + d.domid() + "/name")).isEqualTo("osgi-guest");
            EventChannel ch = evtchn.allocUnbound(d.domid(), c -> { });
            assertThat(ch.port()).isPositive();
            String table = gogo(ctx, "sim:domains");
            assertThat(table).contains("osgi-guest").contains("dom0 event channel ports in use: 1");
            domains.destroy(d.domid());
            assertThat(dir.resolve("domains/" + d.domid())).doesNotExist();
            assertThat(xs.exists("/local/domain/" + d.domid())).isFalse();
            xs.close();
        } finally {
            felix.stop();
            felix.waitForStop(10_000);
        }
    }

    /** Runs a Gogo command the way the control socket does, through the CommandProcessor. */
    private static String gogo(BundleContext ctx, String line) throws Exception {
        // getAll: this test's class path has its own copy of the Gogo API, so skip the class-space check.
        ServiceReference<?>[] refs = ctx.getAllServiceReferences("org.apache.felix.service.command.CommandProcessor", null);
        assertThat(refs).as("Gogo runtime").isNotNull();
        ServiceReference<?> ref = refs[0];
        Object processor = ctx.getService(ref);
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        java.io.PrintStream out = new java.io.PrintStream(bytes, true);
        Object session = processor.getClass().getMethod("createSession", java.io.InputStream.class,
                java.io.OutputStream.class, java.io.OutputStream.class)
                .invoke(processor, new java.io.ByteArrayInputStream(new byte[0]), out, out);
        java.lang.reflect.Method execute = session.getClass().getMethod("execute", CharSequence.class);
        Object result = execute.invoke(session, line);
        return bytes + String.valueOf(result);
    }

    private static <T> T await(BundleContext ctx, Class<T> type) throws InterruptedException {
        ServiceTracker<T, T> tracker = new ServiceTracker<>(ctx, type, null);
        tracker.open();
        T service = tracker.waitForService(TimeUnit.SECONDS.toMillis(10));
        if (service == null) {
            StringBuilder sb = new StringBuilder();
            try {
                for (ServiceReference<?> r : ctx.getAllServiceReferences(null, null)) {
                    sb.append(r).append(" from ").append(r.getBundle().getSymbolicName()).append('\n');
                }
            } catch (org.osgi.framework.InvalidSyntaxException e) {
                throw new AssertionError(e);
            }
            for (Bundle b : ctx.getBundles()) {
                sb.append(b.getSymbolicName()).append(" state ").append(b.getState()).append('\n');
            }
            throw new AssertionError(type.getSimpleName() + " service not registered; services:\n" + sb);
        }
        return service;
    }
}
