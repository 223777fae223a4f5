package io.backplane.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.backplane.api.xenstore.XenStore;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.inject.Inject;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

/**
 * A disk end to end in the runtime: xl:create with a raw image starts a guest process whose
 * blkfront connects to blkback through the xenbus core, the policy and the grant-copy strategy;
 * the guest reads back and checks every sector it wrote, and a pv:request that needs a reconnect
 * loses no request.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class BlkIT extends RuntimeTestBase {
    private static final Pattern CREATED = Pattern.compile("Created domain (\\d+)");
    private static final String VBD_WORKLOAD = "ops=25000,depth=16,max-sectors=64,region=8192,fill=1,verify=1,seed=3,layout=all";

    @Inject
    private XenStore xenStore;

    /** The toolstack starts the guest program from the reactor's runnable jar, with a fixed workload. */
    private void configureGuests() throws IOException {
        Dictionary<String, Object> props = new Hashtable<>();
        props.put("guestCommand", BackplaneOptions.guestCommand("--vbd " + VBD_WORKLOAD));
        configAdmin.getConfiguration("io.backplane.toolstack", "?").update(props);
    }

    /**
     * What dropping an {@code io.backplane.toolstack.cfg} into runtime/deploy does: the toolstack
     * must apply it in place, without stopping the guests it runs (it used to power them off).
     */
    private void changeToolstackConfigLive() throws Exception {
        org.osgi.service.cm.Configuration c = configAdmin.getConfiguration("io.backplane.toolstack", "?");
        Dictionary<String, Object> props = c.getProperties();
        props.put("closeTimeoutSeconds", 9);
        c.update(props);
        org.osgi.service.log.LogReaderService logs = context.getService(
                context.getServiceReference(org.osgi.service.log.LogReaderService.class));
        await("the toolstack to apply its new configuration", 10_000, () -> java.util.Collections.list(logs.getLog())
                .stream().anyMatch(e -> e.getMessage().startsWith("Toolstack configuration changed")
                        && e.getMessage().contains("waits 9 s")));
    }

    private String stat(int domid, String key) {
        return xenStore.tryRead("/local/domain/" + domid + "/device/vbd/51712/stats/" + key).orElse("");
    }

    private void await(String what, long millis, java.util.function.BooleanSupplier condition) throws InterruptedException {
        RuntimeShell.await(what, millis, condition);
    }

    @Test
    public void aGuestDiskWorksThroughTheRuntimeAndSurvivesALiveReconnect() throws Exception {
        configureGuests();
        Path image = stateDir().resolve("blk-it.img");
        byte[] garbage = new byte[32 << 20];
        Arrays.fill(garbage, (byte) 0xEE);
        Files.write(image, garbage);
        Path cfg = stateDir().resolve("blk-it.cfg");
        Files.writeString(cfg, "name = \"blkit\"\nmemory = 64\nvcpus = 2\n"
                + "disk = [ \"format=raw,vdev=xvda,access=rw,features=queues:2;split-indexes:0,target=" + image + "\" ]\n");

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
        int domid = Integer.parseInt(m.group(1));

        await("the guest's random phase", 30_000, () -> stat(domid, "sent").length() > 0
                && Long.parseLong(stat(domid, "sent")) > 2000);
        changeToolstackConfigLive();
        String list = shell("xl:list");
        assertTrue("the guest still runs after the toolstack's configuration changed:\n" + list,
                list.lines().anyMatch(l -> l.startsWith("blkit ") && l.endsWith("running")));
        String answer = shell("pv:request blkit/vbd/51712 max-ring-page-order 1");
        assertTrue(answer, answer.contains("reconnect"));
        await("the frontend to reconnect", 30_000, () -> stat(domid, "reconnects").equals("1"));
        await("the layouts offered (all but split indexes)", 10_000,
                () -> stat(domid, "ring-layout").equals("aligned-slots+separate-rings"));
        // A layout the frontend knows, asked for live: another trip through Closing onto new rings.
        String split = shell("pv:request blkit/vbd/51712 feature-split-indexes 1");
        assertTrue(split, split.contains("reconnect"));
        await("the frontend to reconnect onto split indexes", 30_000, () -> stat(domid, "reconnects").equals("2"));
        String show = shell("pv:show blkit/vbd/51712");
        assertTrue(show, show.contains("split-indexes+aligned-slots+separate-rings/2x2 pages/"));
        await("the workload to finish", 60_000, () -> stat(domid, "phase").equals("done"));

        assertEquals(stat(domid, "sent"), stat(domid, "answered"));
        assertEquals("0", stat(domid, "failed"));
        assertEquals("0", stat(domid, "eopnotsupp"));
        assertEquals("0", stat(domid, "mismatches"));
        assertEquals("2", stat(domid, "reconnects"));
        assertEquals("split-indexes+aligned-slots+separate-rings", stat(domid, "ring-layout"));
        long at = Long.parseLong(stat(domid, "sent-at-reconnect"));
        assertTrue("reconnected in the middle of the traffic, after " + at, at > 2000 && at < 25_000);
        assertEquals("2", stat(domid, "queues"));
        assertEquals("1", stat(domid, "ring-page-order"));
        assertTrue(Long.parseLong(stat(domid, "verified-sectors")) >= 8192);

        // blkfront negotiated feature-persistent, so the registry picked the persistent-grant
        // strategy over grant-copy without blkback naming either.
        String devices = shell("pv:devices");
        assertTrue(devices, devices.lines().anyMatch(l -> l.startsWith("blkit") && l.contains("vbd")
                && l.contains("Connected") && l.contains("persistent")));
        // What lies beyond the region the guest used is untouched.
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "r")) {
            byte[] tail = new byte[4096];
            f.seek(8192L * 512);
            f.readFully(tail);
            for (byte b : tail) {
                assertEquals((byte) 0xEE, b);
            }
        }
        shell("xl:destroy blkit");
    }
}
