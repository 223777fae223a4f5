package io.backplane.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.backplane.api.xenstore.XenStore;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * One sim guest in the runtime under test with a vif (2 queues) and a vbd, both under endless
 * traffic from the guest's netfront and blkfront, and what they counted, read from the guest's
 * {@code stats/} keys. The XenStore service is looked up afresh at every read: the bundle
 * serving it may be updated under the test.
 */
final class GuestTraffic {
    /** Endless traffic on both devices until {@link #stopBlock}; the verify pass then reads the whole region back. */
    static final String WORKLOAD = "--net size=1514,rate=1000,count=1000000000"
            + " --vbd ops=-1,depth=8,max-sectors=16,region=2048,fill=1,verify=1,seed=7";
    private static final Pattern CREATED = Pattern.compile("Created domain (\\d+) .*; guest process (\\d+)");

    private final BundleContext context;
    private final Path stateDir;
    final int domid;
    final ProcessHandle guest;
    private final String vif;
    private final String vbd;

    private GuestTraffic(BundleContext context, Path stateDir, int domid, ProcessHandle guest) {
        this.context = context;
        this.stateDir = stateDir;
        this.domid = domid;
        this.guest = guest;
        this.vif = "/local/domain/" + domid + "/device/vif/0";
        this.vbd = "/local/domain/" + domid + "/device/vbd/51712";
    }

    /** Configures the toolstack's guest command, creates guest {@code name} and waits for traffic on both devices. */
    static GuestTraffic start(BundleContext context, ConfigurationAdmin configAdmin, String name) throws Exception {
        Path stateDir = Path.of(context.getProperty(BackplaneOptions.STATE_DIR_PROPERTY));
        Dictionary<String, Object> props = new Hashtable<>();
        props.put("guestCommand", BackplaneOptions.guestCommand(WORKLOAD));
        configAdmin.getConfiguration("io.backplane.toolstack", "?").update(props);
        Path image = stateDir.resolve(name + ".img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(16 << 20);
        }
        Path cfg = stateDir.resolve(name + ".cfg");
        Files.writeString(cfg, "name = \"" + name + "\"\nmemory = 64\nvif = [ \"bridge=br0,queues=2\" ]\n"
                + "disk = [ \"format=raw,vdev=xvda,access=rw,target=" + image + "\" ]\n");
        RuntimeShell shell = new RuntimeShell(stateDir);
        long end = System.currentTimeMillis() + 20_000;
        while (true) {
            RuntimeShell.Answer a = shell.run("xl:create " + cfg);
            Matcher m = CREATED.matcher(a.out());
            if (a.status() == 0 && m.find()) {
                GuestTraffic t = new GuestTraffic(context, stateDir, Integer.parseInt(m.group(1)),
                        ProcessHandle.of(Long.parseLong(m.group(2))).orElseThrow());
                t.awaitProgress("the guest's first traffic");
                return t;
            }
            if (System.currentTimeMillis() > end) {
                fail("xl:create " + cfg + ": " + a.out() + a.err());
            }
            Thread.sleep(200); // the toolstack applies the guest command
        }
    }

    private String read(String path) {
        try {
            ServiceReference<XenStore> ref = context.getServiceReference(XenStore.class);
            XenStore xs = ref == null ? null : context.getService(ref);
            return xs == null ? "" : xs.tryRead(path).orElse("");
        } catch (RuntimeException e) {
            return ""; // the store is being replaced
        }
    }

    private long number(String path) {
        String v = read(path);
        return v.matches("\\d+") ? Long.parseLong(v) : 0;
    }

    /** The counters the test follows: frames of the vif, requests of the vbd. */
    Map<String, Long> counters() {
        Map<String, Long> c = new LinkedHashMap<>();
        // Answers are read before what was sent: the guest updates both as it goes, so answered <= sent holds here.
        for (String k : new String[] {"tx-answered", "tx-sent", "tx-failed", "tx-dropped", "rx-received", "rx-verified", "rx-bad", "rx-duplicates", "rx-missing", "connections"}) {
            c.put("vif " + k, number(vif + "/stats/" + k));
        }
        for (String k : new String[] {"answered", "sent", "okay", "failed", "mismatches", "verified-sectors", "reconnects", "reissued"}) {
            c.put("vbd " + k, number(vbd + "/stats/" + k));
        }
        return c;
    }

    boolean connected() {
        String be = "/local/domain/0/backend/";
        return read(vif + "/state").equals("4") && read(vbd + "/state").equals("4")
                && read(be + "vif/" + domid + "/0/state").equals("4") && read(be + "vbd/" + domid + "/51712/state").equals("4");
    }

    /**
     * Waits until both devices are Connected and each moved at least 100 more frames sent and
     * answered and 100 more block requests answered than now; fails when the guest process is gone.
     */
    void awaitProgress(String after) throws InterruptedException {
        long frames = number(vif + "/stats/tx-answered");
        long requests = number(vbd + "/stats/answered");
        long end = System.currentTimeMillis() + 30_000;
        while (!(connected() && number(vif + "/stats/tx-answered") >= frames + 100
                && number(vbd + "/stats/answered") >= requests + 100)) {
            assertTrue("the guest process of domain " + domid + " runs (after " + after + ")", guest.isAlive());
            if (System.currentTimeMillis() > end) {
                fail("no traffic on both devices of domain " + domid + " within 30 s after " + after + ": " + counters());
            }
            Thread.sleep(50);
        }
    }

    /**
     * Ends the block workload (the guest reads the whole region back and checks every sector) and
     * waits until every request it sent is answered; returns the final counters.
     */
    Map<String, Long> stopBlock() throws Exception {
        new RuntimeShell(stateDir).ok("xs:write " + vbd + "/backplane-stop 1");
        long end = System.currentTimeMillis() + 60_000;
        while (!read(vbd + "/stats/phase").equals("done")) {
            if (System.currentTimeMillis() > end) {
                fail("the vbd workload of domain " + domid + " did not finish within 60 s: " + counters());
            }
            Thread.sleep(50);
        }
        Map<String, Long> c = counters();
        assertEquals("every block request answered " + c, c.get("vbd sent"), c.get("vbd answered"));
        assertEquals("no block request failed " + c, 0L, (long) c.get("vbd failed"));
        assertEquals("every sector read back as written " + c, 0L, (long) c.get("vbd mismatches"));
        assertTrue("the region was verified " + c, c.get("vbd verified-sectors") >= 2048);
        assertEquals("no frame came back corrupted " + c, 0L, (long) c.get("vif rx-bad"));
        return c;
    }
}
