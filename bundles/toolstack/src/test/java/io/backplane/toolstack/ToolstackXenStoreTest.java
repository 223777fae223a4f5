package io.backplane.toolstack;

import io.backplane.api.device.DeviceId;
import io.backplane.api.device.FeatureDescriptor;
import io.backplane.api.log.OperatorLog;
import io.backplane.api.xenstore.XsError;
import io.backplane.api.xenstore.XsException;
import io.backplane.api.xenstore.XsPerm;
import io.backplane.policy.FixtureCapabilities;
import io.backplane.policy.FeatureNegotiator;
import io.backplane.policy.MergedCapabilityRegistry;
import io.backplane.policy.PolicyRules;
import io.backplane.toolstack.config.ConfigException;
import io.backplane.toolstack.config.DomainConfig;
import io.backplane.toolstack.config.LibvirtXmlParser;
import io.backplane.toolstack.config.XlConfigParser;
import io.backplane.xenstore.client.EmbeddedXenStore;
import io.backplane.xenstore.store.Connection;
import io.backplane.xenstore.store.Quotas;
import io.backplane.xenstore.store.Store;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.random.RandomGenerator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The toolstack against the real XenStore of bundles/xenstore. Expected nodes are written out by
 * hand from what Xen 4.17's libxl writes (xen-pv-facts.md, "A real vif and vbd pair"), value and
 * permissions, so a drift in either fails here.
 */
class ToolstackXenStoreTest {

    @TempDir
    Path dir;

    private Store store;
    private EmbeddedXenStore xs;
    private MergedCapabilityRegistry registry;
    private Toolstack toolstack;
    private final List<String> notices = new java.util.concurrent.CopyOnWriteArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        store = new Store(Quotas.XEN_4_17);
        xs = new EmbeddedXenStore(store);
        registry = new MergedCapabilityRegistry();
        registry.addCapabilities(FixtureCapabilities.vif(), Map.of());
        registry.addCapabilities(FixtureCapabilities.vbd(), Map.of());
        toolstack = new Toolstack(xs, new NextFreeDomainBuilder(), new GuestLauncher("", dir),
                (type, name) -> registry.find(type, name).map(FeatureDescriptor::key).orElse(name),
                RandomGenerator.of("L64X128MixRandom"), Duration.ofSeconds(2), OperatorLog.lines(notices::add));
        toolstack.initDom0();
        Files.write(dir.resolve("root.img"), new byte[1 << 16]);
    }

    @AfterEach
    void tearDown() {
        xs.close();
    }

    private static final String CFG = """
            name = "web"
            memory = 256
            vcpus = 2
            vif = [ "mac=00:16:3e:0a:0b:0c,bridge=br0,queues=2,features=sg:0\\\\;teleport:1" ]
            disk = [ "format=raw,vdev=xvda,access=rw,features=ring-order:0,target=root.img" ]
            """;

    /** Every node under {@code path}: relative path -> "value (perms)". */
    private Map<String, String> dump(String path) {
        Map<String, String> out = new TreeMap<>();
        dump(path, "", out);
        return out;
    }

    private void dump(String path, String rel, Map<String, String> out) {
        for (String child : xs.directory(path)) {
            String p = path.equals("/") ? "/" + child : path + "/" + child;
            String r = rel.isEmpty() ? child : rel + "/" + child;
            out.put(r, xs.read(p) + " " + xs.getPerms(p));
            dump(p, r, out);
        }
    }

    @Test
    void xlConfigBecomesLibxlsVifAndVbdNodeByNode() {
        Toolstack.Created c = toolstack.create(XlConfigParser.parse("web.cfg", CFG, dir), null);
        int d = c.domid();
        assertThat(d).isEqualTo(1);
        assertThat(c.devices()).containsExactly(new DeviceId(0, "vif", 1, 0), new DeviceId(0, "vbd", 1, 51712));

        assertThat(dump("/local/domain/0/backend/vif/1/0")).isEqualTo(Map.ofEntries(
                Map.entry("frontend", "/local/domain/1/device/vif/0 [n0, r1]"),
                Map.entry("frontend-id", "1 [n0, r1]"),
                Map.entry("online", "1 [n0, r1]"),
                Map.entry("state", "1 [n0, r1]"),
                Map.entry("script", "/etc/xen/scripts/vif-bridge [n0, r1]"),
                Map.entry("mac", "00:16:3e:0a:0b:0c [n0, r1]"),
                Map.entry("bridge", "br0 [n0, r1]"),
                Map.entry("handle", "0 [n0, r1]"),
                Map.entry("type", "vif [n0, r1]"),
                Map.entry("hotplug-status", " [n0, r1]"),
                // the requests: canonical Xen keys, the unknown name as written, hidden from the guest
                Map.entry("request-multi-queue-max-queues", "2 [n0]"),
                Map.entry("request-feature-sg", "0 [n0]"),
                Map.entry("request-teleport", "1 [n0]")));
        assertThat(xs.getPerms("/local/domain/0/backend/vif/1/0")).containsExactly(XsPerm.none(0), XsPerm.read(1));
        assertThat(dump("/local/domain/1/device/vif/0")).isEqualTo(Map.of(
                "backend", "/local/domain/0/backend/vif/1/0 [n1, r0]",
                "backend-id", "0 [n1, r0]",
                "state", "1 [n1, r0]",
                "handle", "0 [n1, r0]",
                "mac", "00:16:3e:0a:0b:0c [n1, r0]",
                "trusted", "1 [n1, r0]",
                "mtu", "1500 [n0, r1]"));

        assertThat(dump("/local/domain/0/backend/vbd/1/51712")).isEqualTo(Map.ofEntries(
                Map.entry("frontend", "/local/domain/1/device/vbd/51712 [n0, r1]"),
                Map.entry("params", dir.resolve("root.img") + " [n0, r1]"),
                Map.entry("script", "/etc/xen/scripts/block [n0, r1]"),
                Map.entry("frontend-id", "1 [n0, r1]"),
                Map.entry("online", "1 [n0, r1]"),
                Map.entry("removable", "0 [n0, r1]"),
                Map.entry("bootable", "1 [n0, r1]"),
                Map.entry("state", "1 [n0, r1]"),
                Map.entry("dev", "xvda [n0, r1]"),
                Map.entry("type", "phy [n0, r1]"),
                Map.entry("mode", "w [n0, r1]"),
                Map.entry("device-type", "disk [n0, r1]"),
                Map.entry("discard-enable", "1 [n0, r1]"),
                Map.entry("specification", "xen [n0, r1]"),
                Map.entry("request-max-ring-page-order", "0 [n0]")));
        assertThat(dump("/local/domain/1/device/vbd/51712")).isEqualTo(Map.of(
                "backend", "/local/domain/0/backend/vbd/1/51712 [n1, r0]",
                "backend-id", "0 [n1, r0]",
                "state", "1 [n1, r0]",
                "virtual-device", "51712 [n1, r0]",
                "device-type", "disk [n1, r0]",
                "trusted", "1 [n1, r0]"));

        // The directories above, as on a real host.
        assertThat(xs.getPerms("/local/domain/0/backend/vif")).containsExactly(XsPerm.none(0));
        assertThat(xs.getPerms("/local/domain/0/backend/vif/1")).containsExactly(XsPerm.none(0));
        assertThat(xs.getPerms("/local/domain/1/device/vif")).containsExactly(XsPerm.none(0), XsPerm.read(1));
        assertThat(xs.getPerms("/local/domain/1")).containsExactly(XsPerm.none(0), XsPerm.read(1));
        assertThat(xs.getPerms("/local/domain/1/data")).containsExactly(XsPerm.none(1));
        assertThat(xs.read("/local/domain/1/name")).isEqualTo("web");
        assertThat(xs.read("/local/domain/1/memory/target")).isEqualTo("262144");
        assertThat(xs.directory("/local/domain/1/cpu")).containsExactly("0", "1");
    }

    @Test
    void debiansXenstoreLsSeesLibxlsPermissionsAndHiddenRequests() throws Exception {
        Path xenstoreLs = Path.of("/usr/bin/xenstore-ls");
        if (!Files.isExecutable(xenstoreLs)) {
            throw new AssertionError("/usr/bin/xenstore-ls is missing: apt-get install xenstore-utils");
        }
        toolstack.create(XlConfigParser.parse("web.cfg", CFG, dir), null);
        try (var daemon = new io.backplane.xenstore.wire.XenStoreDaemon(store, dir.resolve("xs"),
                OperatorLog.stderrWarnings("xenstored"))) {
            daemon.start();
            ProcessBuilder pb = new ProcessBuilder("/usr/bin/xenstore-ls", "-p", "/local/domain/0/backend/vif/1/0");
            pb.environment().put("XENSTORED_RUNDIR", daemon.dom0Socket().getParent().toString());
            pb.redirectErrorStream(true);
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor()).as(out).isZero();
            // xenstore-ls -p prints: key = "value"  . . .  (perms)
            Map<String, String> perms = new TreeMap<>();
            for (String line : out.split("\n")) {
                var m = java.util.regex.Pattern.compile("^(\\S+) = \"(.*)\".*\\((\\S+)\\)$").matcher(line.trim());
                if (m.matches()) {
                    perms.put(m.group(1), m.group(2) + " " + m.group(3));
                }
            }
            assertThat(perms).containsEntry("mac", "00:16:3e:0a:0b:0c n0,r1")
                    .containsEntry("hotplug-status", " n0,r1")
                    .containsEntry("request-multi-queue-max-queues", "2 n0")
                    .containsEntry("request-feature-sg", "0 n0")
                    .hasSize(13);
        }
    }

    @Test
    void theGuestReadsItsBackendDirectoryButNotTheRequests() {
        toolstack.create(XlConfigParser.parse("web.cfg", CFG, dir), null);
        Connection guest = store.connect(1, false, (p, t) -> { });
        try {
            String be = "/local/domain/0/backend/vif/1/0";
            assertThat(new String(store.read(guest, 0, be + "/mac"), StandardCharsets.UTF_8)).isEqualTo("00:16:3e:0a:0b:0c");
            assertThat(store.directory(guest, 0, be).children()).contains("mac", "request-feature-sg");
            assertThatThrownBy(() -> store.read(guest, 0, be + "/request-feature-sg"))
                    .isInstanceOfSatisfying(XsException.class, e -> assertThat(e.error()).isEqualTo(XsError.EACCES));
            // and may not change its MTU
            assertThatThrownBy(() -> store.write(guest, 0, "/local/domain/1/device/vif/0/mtu", "9000".getBytes()))
                    .isInstanceOfSatisfying(XsException.class, e -> assertThat(e.error()).isEqualTo(XsError.EACCES));
        } finally {
            store.disconnect(guest);
        }
    }

    @Test
    void libvirtXmlGivesTheSameDevicesAsTheXlConfig() {
        String xml = """
                <domain type='xen'>
                  <name>web</name>
                  <memory unit='MiB'>256</memory>
                  <vcpu>2</vcpu>
                  <devices>
                    <interface type='bridge'>
                      <mac address='00:16:3e:0a:0b:0c'/>
                      <source bridge='br0'/>
                      <driver queues='2'><host tso4='off'/></driver>
                    </interface>
                    <disk type='file' device='disk'>
                      <driver name='qemu' type='raw'/>
                      <source file='root.img'/>
                      <target dev='xvda' bus='xen'/>
                    </disk>
                  </devices>
                </domain>
                """;
        toolstack.create(LibvirtXmlParser.parse("web.xml", xml, dir), null);
        Map<String, String> vifFromXml = dump("/local/domain/0/backend/vif/1/0");
        Map<String, String> vbdFromXml = dump("/local/domain/0/backend/vbd/1/51712");
        toolstack.destroy("web");

        toolstack.create(XlConfigParser.parse("web.cfg", """
                name = "web"
                memory = 256
                vcpus = 2
                vif = [ "mac=00:16:3e:0a:0b:0c,bridge=br0,queues=2,features=tso4:0" ]
                disk = [ "root.img,raw,xvda,rw" ]
                """, dir), null);
        assertThat(dump("/local/domain/0/backend/vif/1/0")).isEqualTo(vifFromXml)
                .containsEntry("request-feature-gso-tcpv4", "0 [n0]");
        assertThat(dump("/local/domain/0/backend/vbd/1/51712")).isEqualTo(vbdFromXml);
    }

    @Test
    void aRefusedConfigWritesNothing() {
        Map<String, String> before = dump("/");
        String bad = CFG.replace("disk = [", "disk = [ \"root.img,xvdb,w\",\n \"root.img,xvdc,rw,features=queues\",");
        assertThatThrownBy(() -> toolstack.create(XlConfigParser.parse("web.cfg", bad, dir), null))
                .isInstanceOf(ConfigException.class)
                .hasMessage("web.cfg:6: disk 1: feature 'queues' is not name:value");
        String conflicting = CFG.replace("queues=2,", "queues=2,features=multi-queue-max-queues:3,");
        assertThatThrownBy(() -> toolstack.create(XlConfigParser.parse("web.cfg", conflicting, dir), null))
                .hasMessageContaining("multi-queue-max-queues is given twice");
        String aliasConflict = CFG.replace("queues=2,", "queues=2,features=queues:3,");
        assertThatThrownBy(() -> toolstack.create(XlConfigParser.parse("web.cfg", aliasConflict, dir), null))
                .hasMessage("web.cfg:4: vif: multi-queue-max-queues is requested as both '2' and '3'");
        assertThat(dump("/")).isEqualTo(before);

        toolstack.create(XlConfigParser.parse("web.cfg", CFG, dir), null);
        Map<String, String> afterOne = dump("/");
        assertThatThrownBy(() -> toolstack.create(XlConfigParser.parse("web.cfg", CFG, dir), null))
                .hasMessage("domain web already exists (id 1)");
        assertThat(dump("/")).isEqualTo(afterOne);
    }

    @Test
    void aBuilderHandingOutATakenIdIsRefusedAndDom0Untouched() {
        DomainConfig c = XlConfigParser.parse("web.cfg", CFG, dir);
        Map<String, String> before = dump("/");
        Toolstack clash = new Toolstack(xs, new DomainBuilder() {
            public Built build(DomainConfig config, java.util.function.IntPredicate taken) {
                return new Built(0, false);
            }

            public void destroy(int domid) {
            }
        }, new GuestLauncher("", dir), (t, n) -> n, RandomGenerator.of("L64X128MixRandom"), Duration.ofSeconds(1),
                OperatorLog.lines(notices::add));
        assertThatThrownBy(() -> clash.create(c, null)).hasMessage("domain id 0 is already in XenStore");
        assertThat(dump("/")).isEqualTo(before);
    }

    @Test
    void attachDetachAndDestroy() throws IOException {
        toolstack.create(XlConfigParser.parse("web.cfg", CFG, dir), null);
        DeviceId vif1 = toolstack.attachNic("web", io.backplane.toolstack.config.VifSpec.parse("bridge=br1,queues=1", 0));
        assertThat(vif1).isEqualTo(new DeviceId(0, "vif", 1, 1));
        assertThat(xs.read(vif1.backendPath() + "/request-multi-queue-max-queues")).isEqualTo("1");
        assertThat(xs.read(vif1.backendPath() + "/mac")).matches("00:16:3e:[0-7][0-9a-f]:[0-9a-f]{2}:[0-9a-f]{2}");
        Files.write(dir.resolve("data.img"), new byte[4096]);
        DeviceId xvdb = toolstack.attachDisk("1", io.backplane.toolstack.config.DiskSpec.parse(
                "data.img,xvdb,r", 0, dir));
        assertThat(xvdb.devid()).isEqualTo(51728);
        assertThat(xs.read(xvdb.backendPath() + "/mode")).isEqualTo("r");
        assertThatThrownBy(() -> toolstack.attachDisk("web", io.backplane.toolstack.config.DiskSpec.parse(
                "data.img,xvdb,r", 0, dir))).hasMessageContaining("already has a disk xvdb");

        // detach by MAC and by vdev: both directories gone
        String mac = xs.read(vif1.backendPath() + "/mac");
        toolstack.detachNic("web", mac);
        assertThat(xs.exists(vif1.backendPath())).isFalse();
        assertThat(xs.exists(vif1.frontendPath())).isFalse();
        toolstack.detachDisk("web", "xvdb");
        assertThat(xs.exists(xvdb.backendPath())).isFalse();
        assertThatThrownBy(() -> toolstack.detachNic("web", "7")).hasMessage("domain web has no vif 7");

        assertThat(toolstack.list()).extracting(Toolstack.DomainInfo::name).containsExactly("Domain-0", "web");
        toolstack.destroy("web");
        assertThat(xs.exists("/local/domain/1")).isFalse();
        assertThat(xs.exists("/local/domain/0/backend/vif/1")).isFalse();
        assertThat(xs.exists("/local/domain/0/backend/vbd/1")).isFalse();
        assertThat(xs.exists("/vm")).isFalse();
        assertThatThrownBy(() -> toolstack.destroy("web")).hasMessage("no domain named web");
    }

    @Test
    void detachWaitsForAConnectedBackendToClose() throws Exception {
        toolstack.create(XlConfigParser.parse("web.cfg", CFG, dir), null);
        DeviceId vif = new DeviceId(0, "vif", 1, 0);
        xs.write(vif.backendPath() + "/state", "4");
        // The backend's side of the xenbus handshake: on Closing (5), go to Closed (6).
        List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (var w = xs.watch(vif.backendPath() + "/state", "backend", (p, t) -> {
            String s = xs.tryRead(p).orElse("");
            seen.add(s);
            if (s.equals("5")) {
                assertThat(xs.read(vif.backendPath() + "/online")).isEqualTo("0");
                xs.write(p, "6");
            }
        })) {
            toolstack.detachNic("web", "0");
        }
        assertThat(seen).contains("5");
        assertThat(xs.exists(vif.backendPath())).isFalse();

        assertThat(notices).isEmpty();

        // No backend answering: removed anyway after the timeout, and said so.
        DeviceId vbd = new DeviceId(0, "vbd", 1, 51712);
        xs.write(vbd.backendPath() + "/state", "4");
        toolstack.detachDisk("web", "xvda");
        assertThat(notices).containsExactly("device 1/vbd/51712: the backend did not reach Closed within 2 s; removed anyway");
        assertThat(xs.exists(vbd.backendPath())).isFalse();
    }

    @Test
    void endToEndFromXlConfigThroughThePolicy() {
        toolstack.create(XlConfigParser.parse("web.cfg", CFG.replace("queues=2", "queues=8"), dir), null);
        FeatureNegotiator policy = new FeatureNegotiator(xs, registry);
        DeviceId vif = new DeviceId(0, "vif", 1, 0);
        policy.negotiate(vif, PolicyRules.parse("vif queues max=4"));
        String be = vif.backendPath();
        assertThat(xs.read(be + "/multi-queue-max-queues")).isEqualTo("4");
        assertThat(xs.read(be + "/feature-control/multi-queue-max-queues/status")).isEqualTo("clamped");
        assertThat(xs.read(be + "/feature-sg")).isEqualTo("0");
        assertThat(xs.exists(be + "/request-feature-sg")).isFalse();
        assertThat(xs.read(be + "/feature-control/teleport/status")).isEqualTo("rejected");
        assertThat(xs.exists(be + "/request-teleport")).isTrue();
        DeviceId vbd = new DeviceId(0, "vbd", 1, 51712);
        policy.negotiate(vbd, PolicyRules.NONE);
        assertThat(xs.read(vbd.backendPath() + "/max-ring-page-order")).isEqualTo("0");
        assertThat(xs.exists(vbd.backendPath() + "/request-max-ring-page-order")).isFalse();
    }
}
