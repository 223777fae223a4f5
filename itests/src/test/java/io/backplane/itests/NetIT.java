package io.backplane.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.backplane.api.xenstore.XenStore;
import io.backplane.api.xenstore.XsPerm;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.inject.Inject;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.service.metatype.AttributeDefinition;
import org.osgi.service.metatype.MetaTypeInformation;
import org.osgi.service.metatype.MetaTypeService;
import org.osgi.service.metatype.ObjectClassDefinition;

/**
 * The whole device chain for examples/demo.cfg in the runtime: xl:create brings the vif and the
 * disk to Connected on both ends, the config's features= requests are answered in XenStore
 * (accepted ones acknowledged by removing the request key, the unknown one rejected and kept),
 * pv:request answers (accepted, clamped by a live policy rule, unknown) are visible in XenStore
 * and the frontend reconnects with the new queue count, and xl:destroy leaves no domain
 * directory, backend directory, event channel socket or guest process behind.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class NetIT extends RuntimeTestBase {
    private static final Pattern CREATED = Pattern.compile("Created domain (\\d+) .*; guest process (\\d+)");
    /** A light, endless netfront workload and a short blkfront one: the test checks the chain, not speed. */
    private static final String GUEST_WORKLOAD = "--net size=1514,rate=2000,count=1000000000"
            + " --vbd ops=2000,depth=4,max-sectors=16,region=2048,fill=1,verify=1,seed=5";

    @Inject
    private XenStore xenStore;
    @Inject
    private MetaTypeService metaType;

    private String[] run(String command) throws IOException {
        RuntimeShell.Answer a = new RuntimeShell(stateDir()).run(command);
        return new String[] {Integer.toString(a.status()), a.out(), a.err()};
    }

    private String read(String path) {
        return xenStore.tryRead(path).orElse("");
    }

    private void await(String what, long millis, BooleanSupplier condition) throws InterruptedException {
        RuntimeShell.await(what, millis, condition);
    }

    private void configure(String pid, String key, Object value) throws IOException {
        Dictionary<String, Object> props = new Hashtable<>();
        props.put(key, value);
        configAdmin.getConfiguration(pid, "?").update(props);
    }

    /** What an operator's tools show for the PIDs that steer feature control and worker placement. */
    private Set<String> attributes(String pid) {
        for (Bundle b : context.getBundles()) {
            MetaTypeInformation info = metaType.getMetaTypeInformation(b);
            if (info != null && Arrays.asList(info.getPids()).contains(pid)) {
                Set<String> ids = new TreeSet<>();
                for (AttributeDefinition a : info.getObjectClassDefinition(pid, null)
                        .getAttributeDefinitions(ObjectClassDefinition.ALL)) {
                    ids.add(a.getID());
                }
                return ids;
            }
        }
        fail("no bundle describes " + pid + " with metatype");
        return null;
    }

    @Test
    public void thePolicyAndNetbackSettingsAreDescribedWithMetatype() {
        assertTrue(attributes("io.backplane.policy").contains("rules"));
        assertTrue(attributes("io.backplane.netback").containsAll(List.of("worker.cpus", "worker.cpus.domain")));
    }

    @Test
    public void theDemoGuestsDevicesConnectAnswerRequestsLiveAndLeaveNothingBehind() throws Exception {
        configure("io.backplane.toolstack", "guestCommand", BackplaneOptions.guestCommand(GUEST_WORKLOAD));
        // The demo's config as shipped; its disk target is relative to the config's directory.
        Path cfg = Files.copy(BackplaneOptions.repository().resolve("examples/demo.cfg"), stateDir().resolve("demo.cfg"));
        try (RandomAccessFile image = new RandomAccessFile(stateDir().resolve("demo-disk.img").toFile(), "rw")) {
            image.setLength(16 << 20);
        }

        // The toolstack component restarts with the new guest command: retry until it has.
        String created = null;
        long end = System.currentTimeMillis() + 10_000;
        while (created == null) {
            String[] r = run("xl:create " + cfg);
            if (r[0].equals("0") && r[1].contains("guest process")) {
                created = r[1];
            } else if (System.currentTimeMillis() > end) {
                fail("xl:create " + cfg + ": " + r[1] + r[2]);
            } else {
                Thread.sleep(200);
            }
        }
        Matcher m = CREATED.matcher(created);
        assertTrue(created, m.find());
        int domid = Integer.parseInt(m.group(1));
        long guestPid = Long.parseLong(m.group(2));
        String vif = "/local/domain/0/backend/vif/" + domid + "/0";
        String vifFront = "/local/domain/" + domid + "/device/vif/0";
        String vbd = "/local/domain/0/backend/vbd/" + domid + "/51712";
        String vbdFront = "/local/domain/" + domid + "/device/vbd/51712";

        for (String dir : new String[] {vif, vifFront, vbd, vbdFront}) {
            await(dir + " Connected", 30_000, () -> read(dir + "/state").equals("4"));
        }

        // features=sg:0;tso6:off;teleport:1 and queues=2: accepted requests are acknowledged by
        // removing their key, the unknown one is rejected with a reason and its key kept.
        assertEquals("0", read(vif + "/feature-sg"));
        assertEquals("accepted", read(vif + "/feature-control/feature-sg/status"));
        assertFalse(xenStore.exists(vif + "/request-feature-sg"));
        assertEquals("0", read(vif + "/feature-gso-tcpv6"));
        assertFalse(xenStore.exists(vif + "/request-feature-gso-tcpv6"));
        assertEquals("2", read(vif + "/multi-queue-max-queues"));
        assertEquals("2", read(vifFront + "/multi-queue-num-queues"));
        assertEquals("rejected", read(vif + "/feature-control/teleport/status"));
        assertTrue(read(vif + "/feature-control/teleport/reason").contains("teleport"));
        assertTrue(xenStore.exists(vif + "/request-teleport"));
        // Requests and answers are dom0's alone: the guest may read the rest of its backend directory.
        assertEquals(List.of(XsPerm.none(0)), xenStore.getPerms(vif + "/request-teleport"));
        assertEquals(List.of(XsPerm.none(0)), xenStore.getPerms(vif + "/feature-control"));
        assertTrue(xenStore.getPerms(vif).contains(XsPerm.read(domid)));
        assertEquals("0", read(vbd + "/max-ring-page-order"));
        assertFalse(xenStore.exists(vbd + "/request-max-ring-page-order"));

        // Traffic flows from the guest's netfront through netback.
        await("TX answered by netback", 20_000, () -> !read(vifFront + "/stats/tx-answered").isEmpty()
                && Long.parseLong(read(vifFront + "/stats/tx-answered")) > 100);

        // A live change that needs a reconnect: the frontend reconnects with one queue.
        String answer = shell("pv:request demo/vif/0 queues 1");
        assertTrue(answer, answer.contains("multi-queue-max-queues 1 accepted") && answer.contains("reconnects"));
        assertEquals("1", read(vif + "/multi-queue-max-queues"));
        assertEquals("accepted", read(vif + "/feature-control/multi-queue-max-queues/status"));
        assertFalse(xenStore.exists(vif + "/request-multi-queue-max-queues"));
        await("the netfront to reconnect with one queue", 30_000, () -> read(vifFront + "/multi-queue-num-queues").equals("1")
                && read(vif + "/state").equals("4") && read(vifFront + "/state").equals("4"));

        // A per-domain policy limit set live clamps the next request, and says so in XenStore.
        configure("io.backplane.policy", "rules", new String[] {"vif@demo queues max=1"});
        String clamped = null;
        end = System.currentTimeMillis() + 10_000;
        while (clamped == null) {
            String a = shell("pv:request demo/vif/0 queues 2");
            if (a.contains("clamped")) {
                clamped = a;
            } else if (System.currentTimeMillis() > end) {
                fail("the live policy rule never clamped the request: " + a);
            } else {
                Thread.sleep(200);
            }
        }
        assertTrue(clamped, clamped.contains("published 1"));
        assertEquals("clamped", read(vif + "/feature-control/multi-queue-max-queues/status"));
        assertEquals("1", read(vif + "/multi-queue-max-queues"));
        assertFalse(read(vif + "/feature-control/multi-queue-max-queues/reason").isEmpty());
        assertEquals("a clamped request is not acknowledged", "2", read(vif + "/request-multi-queue-max-queues"));

        // A feature nobody knows is refused by the shell with a sentence, nothing written.
        String[] unknown = run("pv:request demo/vif/0 warp-drive 1");
        assertNotEquals("0", unknown[0]);
        assertTrue(unknown[2], unknown[2].contains("no feature 'warp-drive'"));
        assertFalse(xenStore.exists(vif + "/request-warp-drive"));

        // pv:show sets requested, published and negotiated side by side, with per-queue counters.
        String show = shell("pv:show demo/vif/0");
        assertTrue(show, show.lines().anyMatch(l -> l.matches("\\s*multi-queue-max-queues +2 +clamped +1 +multi-queue-num-queues=1")));
        assertTrue(show, show.lines().anyMatch(l -> l.matches("\\s*teleport +1 +rejected +- +-")));
        assertTrue(show, show.lines().anyMatch(l -> l.matches("\\s*queue-0/tx-packets = [1-9][0-9]*")));
        String showDisk = shell("pv:show " + domid + "/vbd/51712");
        assertTrue(showDisk, showDisk.lines().anyMatch(l -> l.matches("\\s*max-ring-page-order +0 +accepted +0 +.*")));

        String devices = shell("pv:devices");
        assertTrue(devices, devices.lines().anyMatch(l -> l.startsWith("demo") && l.contains("vif") && l.contains("Connected")));
        assertTrue(devices, devices.lines().anyMatch(l -> l.startsWith("demo") && l.contains("vbd") && l.contains("Connected")));

        shell("xl:destroy demo");
        assertFalse(xenStore.exists("/local/domain/" + domid));
        assertFalse(xenStore.exists(vif));
        assertFalse(xenStore.exists(vbd));
        assertFalse(shell("xl:list").contains("demo"));
        await("the guest process " + guestPid + " to end", 10_000,
                () -> ProcessHandle.of(guestPid).map(p -> !p.isAlive()).orElse(true));
        Path domainDir = stateDir().resolve("domains").resolve(Integer.toString(domid));
        assertFalse(domainDir + " and its evtchn.sock are gone", Files.exists(domainDir));
        configure("io.backplane.policy", "rules", new String[0]);
    }
}
