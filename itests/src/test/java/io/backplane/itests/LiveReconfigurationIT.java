package io.backplane.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.util.Collections;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.service.log.LogEntry;
import org.osgi.service.log.LogReaderService;

/**
 * A live change of every component's configuration while a guest's netfront and blkfront run
 * traffic: each applies in place, so the guest keeps running, its devices stay connected (no
 * reconnect at all), and every block request is answered and every sector reads back as written.
 * A XenStore mode change, which only a restart of the store could apply, is refused while the
 * domain lives in the store.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class LiveReconfigurationIT extends RuntimeTestBase {
    private void configure(String pid, Object... keyValues) throws IOException {
        org.osgi.service.cm.Configuration c = configAdmin.getConfiguration(pid, "?");
        Dictionary<String, Object> props = c.getProperties() == null ? new Hashtable<>() : c.getProperties();
        for (int i = 0; i < keyValues.length; i += 2) {
            props.put((String) keyValues[i], keyValues[i + 1]);
        }
        c.update(props);
    }

    private boolean logged(String text) {
        LogReaderService logs = context.getService(context.getServiceReference(LogReaderService.class));
        return Collections.list(logs.getLog()).stream().map(LogEntry::getMessage).anyMatch(m -> m.contains(text));
    }

    @Test
    public void everyComponentTakesANewConfigurationUnderTrafficWithoutStoppingTheGuest() throws Exception {
        GuestTraffic t = GuestTraffic.start(context, configAdmin, "steady");

        // {pid, key, value, what the component logs (or null)} for every configurable component.
        Object[][] changes = {
            {"io.backplane.toolstack", "closeTimeoutSeconds", 9, "device removal waits 9 s"},
            {"io.backplane.policy", "rules", new String[] {"vif queues max=8"}, "Feature policy: 1 rule(s) in force"},
            {"io.backplane.backend", "autoSwap", true, "backend core: configuration changed in place"},
            {"io.backplane.netback", "fatal_skb_slots", 21, null},
            {"io.backplane.netback.sink", "memory_loopback", true, null},
            {"io.backplane.ring.persistent", "persistentGrantUnusedSeconds", 30, null},
            {"io.backplane.xenstore", "quota.nodes", 2000, "guest quotas now 2000 nodes"},
            {"io.backplane.hypervisor.sim", "guestUidBase", -1, "guest uid base for new domains"},
            {"io.backplane.logging", "console.level", "WARN", "console level WARN"},
            {"io.backplane.xenstore", "mode", "socket", "not applied: domains " + t.domid},
        };
        for (Object[] change : changes) {
            String what = change[0] + " " + change[1] + "=" + (change[2] instanceof String[] a ? String.join(",", a) : change[2]);
            if (change[0].equals("io.backplane.xenstore") && change[1].equals("mode")) {
                configure((String) change[0], "mode", "socket", "socket.path", stateDir().resolve("no-xenstored-here").toString());
            } else {
                configure((String) change[0], change[1], change[2]);
            }
            if (change[3] != null) {
                RuntimeShell.await("the log line of " + what, 20_000, () -> logged((String) change[3]));
            }
            t.awaitProgress(what);
        }
        Map<String, Long> c = t.stopBlock();
        assertEquals("no device reconnected: every change applied in place " + c, 0L, (long) c.get("vbd reconnects"));
        assertEquals("the vif never reconnected " + c, 1L, (long) c.get("vif connections"));
        assertTrue("the guest runs " + c, t.guest.isAlive());
        System.out.println("LiveReconfigurationIT: " + changes.length + " changes under traffic; " + c);
    }
}
