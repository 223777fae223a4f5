package io.backplane.toolstack.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigParsersTest {

    @TempDir
    Path dir;

    private Path image() throws IOException {
        Path img = dir.resolve("disk.img");
        Files.write(img, new byte[4096]);
        return img;
    }

    @Test
    void vdevEncodingIsLibxls() {
        assertThat(VirtualDevice.devid("xvda")).isEqualTo(51712);
        assertThat(VirtualDevice.devid("xvdb")).isEqualTo(51728);
        assertThat(VirtualDevice.devid("xvda1")).isEqualTo(51713);
        assertThat(VirtualDevice.devid("xvdq")).isEqualTo((1 << 28) | (16 << 8));
        assertThat(VirtualDevice.devid("xvdaa")).isEqualTo((1 << 28) | (26 << 8));
        assertThat(VirtualDevice.devid("hda")).isEqualTo(768);
        assertThat(VirtualDevice.devid("hdb")).isEqualTo(832);
        assertThat(VirtualDevice.devid("hdc")).isEqualTo(22 << 8);
        assertThat(VirtualDevice.devid("sda")).isEqualTo(2048);
        assertThat(VirtualDevice.devid("sdb2")).isEqualTo(2048 + 16 + 2);
        assertThat(VirtualDevice.devid("d0p1")).isEqualTo(51713);
        assertThat(VirtualDevice.devid("51712")).isEqualTo(51712);
        assertThat(VirtualDevice.devid("hde")).isEqualTo(-1);
        assertThat(VirtualDevice.devid("xvda01")).isEqualTo(-1);
        assertThat(VirtualDevice.devid("vda")).isEqualTo(-1);
    }

    @Test
    void xlConfigWithSeedFeaturesAndPositionalDisk() throws IOException {
        image();
        String cfg = """
                # the seed's example
                name = "guest"
                kernel = "bzImage"
                memory = 256; vcpus = 2
                vif = [ "bridge=br0,queues=2,mac=00:16:3E:01:02:03,rate=10Mb/s@20ms",
                        'features=queues:4\\\\;feature-sg:0' ]
                disk = [ 'file:disk.img,xvda,w',
                         "format=raw, vdev=xvdb, access=ro, features=max-ring-page-order:0, target=disk.img" ]
                """;
        DomainConfig d = XlConfigParser.parse("guest.cfg", cfg, dir);
        assertThat(d.name()).isEqualTo("guest");
        assertThat(d.memoryMiB()).isEqualTo(256);
        assertThat(d.vcpus()).isEqualTo(2);
        assertThat(d.nics()).hasSize(2);
        NicConfig n0 = d.nics().get(0);
        assertThat(n0.devid()).isZero();
        assertThat(n0.bridge()).isEqualTo("br0");
        assertThat(n0.mac()).contains("00:16:3e:01:02:03");
        assertThat(n0.rate()).contains("25000,20000"); // 10 Mbit/s = 1250000 B/s, over 20 ms
        assertThat(n0.features()).isEqualTo(Map.of("multi-queue-max-queues", "2"));
        NicConfig n1 = d.nics().get(1);
        assertThat(n1.devid()).isEqualTo(1);
        assertThat(n1.line()).isEqualTo(6);
        assertThat(n1.features()).containsExactly(Map.entry("queues", "4"), Map.entry("feature-sg", "0"));
        assertThat(n1.script()).isEqualTo("/etc/xen/scripts/vif-bridge");
        assertThat(d.disks().get(0).devid()).isEqualTo(51712);
        assertThat(d.disks().get(0).readWrite()).isTrue();
        assertThat(d.disks().get(0).target()).isEqualTo(dir.resolve("disk.img").toString());
        assertThat(d.disks().get(1).readWrite()).isFalse();
        assertThat(d.disks().get(1).discardEnable()).isFalse();
        assertThat(d.disks().get(1).features()).containsExactly(Map.entry("max-ring-page-order", "0"));
    }

    @Test
    void badXlConfigsAreRefusedWithLineAndReason() throws IOException {
        image();
        assertRefused("name = \"g\"\nvif = [ 'bridge=br0,queues=0' ]\n",
                "x.cfg:2: vif 0: queues '0' is not a number from 1 to 65535");
        assertRefused("name = \"g\"\nvif = [ 'bridge=br0',\n 'colour=blue' ]\n",
                "x.cfg:3: vif 1: unknown vif key 'colour'");
        assertRefused("name = \"g\"\nvif = [ 'features=queues' ]\n",
                "x.cfg:2: vif 0: feature 'queues' is not name:value");
        assertRefused("name = \"g\"\n\ndisk = [ 'disk.img,qcow2,xvda,w' ]\n",
                "x.cfg:3: disk 0: format 'qcow2': Backplane serves raw images only");
        assertRefused("name = \"g\"\ndisk = [ 'missing.img,xvda,w' ]\n", "x.cfg:2: disk 0: disk image");
        assertRefused("name = \"g\"\ndisk = [ 'disk.img,xvz,w' ]\n", "x.cfg:2: disk 0: vdev 'xvz'");
        assertRefused("name = \"g\"\ndisk = [ 'disk.img,xvda,w', 'disk.img,d0p0,r' ]\n",
                "x.cfg:2: disk d0p0 uses the same device number 51712 as xvda");
        assertRefused("name = \"g\"\nmemory = \"lots\"\n", "x.cfg:2: 'memory' must be a whole number");
        assertRefused("name = \"g\"\nvif = [ 'bridge=br0' \n", "x.cfg:3: list not closed");
        assertRefused("memory = 128\n", "x.cfg: no 'name' setting");
        assertRefused("name = \"42\"\n", "x.cfg: domain name '42'");
        assertRefused("name = \"g\" vcpus = 2\n", "x.cfg:1: unexpected 'vcpus'");
    }

    @Test
    void aConfigThatIsNotUtf8IsRefusedWithItsLine() throws IOException {
        Path cfg = dir.resolve("latin1.cfg");
        // "# café" as a Latin-1 editor saves it: 0xe9 alone is not UTF-8
        byte[] head = "name = \"g\"\nmemory = 64\n# caf".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] bytes = java.util.Arrays.copyOf(head, head.length + 2);
        bytes[head.length] = (byte) 0xe9;
        bytes[head.length + 1] = '\n';
        Files.write(cfg, bytes);
        assertThatThrownBy(() -> io.backplane.toolstack.ToolstackService.read(cfg)).isInstanceOf(ConfigException.class)
                .hasMessage("latin1.cfg:3: not valid UTF-8: byte 0xe9 at column 6");

        Path xml = dir.resolve("bad.xml");
        Files.write(xml, new byte[] {'<', 'd', 'o', 'm', 'a', 'i', 'n', '>', '\n', (byte) 0xff, (byte) 0xfe, '\n'});
        assertThatThrownBy(() -> io.backplane.toolstack.ToolstackService.read(xml)).isInstanceOf(ConfigException.class)
                .hasMessage("bad.xml:2: not valid UTF-8: byte 0xff at column 1");

        Files.writeString(cfg, "name = \"caf\u00e9\"\n"); // valid UTF-8 gets as far as the name check
        assertThatThrownBy(() -> io.backplane.toolstack.ToolstackService.read(cfg))
                .hasMessageStartingWith("latin1.cfg: domain name");
    }

    private void assertRefused(String cfg, String message) {
        assertThatThrownBy(() -> XlConfigParser.parse("x.cfg", cfg, dir))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith(message);
    }

    @Test
    void libvirtXmlMapsDriverQueuesAndHostOffloadsToXenKeys() throws IOException {
        Path img = image();
        String xml = """
                <domain type='xen'>
                  <name>web</name>
                  <memory unit='MiB'>512</memory>
                  <vcpu>2</vcpu>
                  <os><type>linux</type></os>
                  <devices>
                    <interface type='bridge'>
                      <mac address='00:16:3e:aa:bb:cc'/>
                      <source bridge='br0'/>
                      <driver queues='2'><host csum='off' tso4='off' tso6='on'/></driver>
                    </interface>
                    <disk type='file' device='disk'>
                      <driver name='qemu' type='raw' queues='2' discard='unmap'/>
                      <source file='%s'/>
                      <target dev='xvda' bus='xen'/>
                      <readonly/>
                    </disk>
                    <console type='pty'/>
                  </devices>
                </domain>
                """.formatted(img);
        DomainConfig d = LibvirtXmlParser.parse("web.xml", xml, dir);
        assertThat(d.memoryMiB()).isEqualTo(512);
        NicConfig n = d.nics().get(0);
        assertThat(n.bridge()).isEqualTo("br0");
        assertThat(n.features()).containsExactly(Map.entry("multi-queue-max-queues", "2"),
                Map.entry("feature-ipv6-csum-offload", "0"), Map.entry("feature-gso-tcpv4", "0"),
                Map.entry("feature-gso-tcpv6", "1"));
        DiskConfig disk = d.disks().get(0);
        assertThat(disk.devid()).isEqualTo(51712);
        assertThat(disk.readWrite()).isFalse();
        assertThat(disk.discardEnable()).isTrue();
        assertThat(disk.features()).containsExactly(Map.entry("multi-queue-max-queues", "2"));
    }

    @Test
    void badLibvirtXmlIsRefusedWithTheElementsLine() {
        String xml = "<domain type='xen'>\n<name>web</name>\n<devices>\n<interface type='bridge'>\n"
                + "<source bridge='br0'/>\n<driver><host ufo='off'/></driver>\n</interface>\n</devices>\n</domain>\n";
        assertThatThrownBy(() -> LibvirtXmlParser.parse("web.xml", xml, dir))
                .hasMessage("web.xml:6: <host>: <host ufo=...> has no Xen netif feature (understood: csum, tso4, tso6)");
        assertThatThrownBy(() -> LibvirtXmlParser.parse("web.xml", "<domain><name>x</name>\n<oops></domain>", dir))
                .hasMessageStartingWith("web.xml:2: not well-formed XML");
        String bw = "<domain><name>w</name><devices>\n<interface type='bridge'><bandwidth/></interface>"
                + "</devices></domain>";
        assertThatThrownBy(() -> LibvirtXmlParser.parse("w.xml", bw, dir))
                .hasMessageStartingWith("w.xml:2: <bandwidth>: <bandwidth> in <interface> has no Xen netif equivalent");
    }

    @Test
    void theShippedExamplesParse() throws IOException {
        Path examples = Path.of("../../examples").toAbsolutePath().normalize();
        for (String f : new String[] {"demo.cfg", "demo.xml"}) {
            Files.copy(examples.resolve(f), dir.resolve(f));
        }
        Files.write(dir.resolve("demo-disk.img"), new byte[4096]);
        DomainConfig cfg = XlConfigParser.parse("demo.cfg", Files.readString(dir.resolve("demo.cfg")), dir);
        assertThat(cfg.nics().get(0).features()).containsExactly(Map.entry("multi-queue-max-queues", "2"),
                Map.entry("sg", "0"), Map.entry("tso6", "off"), Map.entry("teleport", "1"));
        assertThat(cfg.disks().get(0).features()).containsExactly(Map.entry("max-ring-page-order", "0"));
        DomainConfig xml = LibvirtXmlParser.parse("demo.xml", Files.readString(dir.resolve("demo.xml")), dir);
        assertThat(xml.name()).isEqualTo(cfg.name());
        assertThat(xml.nics().get(0).mac()).isEqualTo(cfg.nics().get(0).mac());
        assertThat(xml.nics().get(0).features()).containsExactly(Map.entry("multi-queue-max-queues", "2"),
                Map.entry("feature-gso-tcpv6", "0"));
        assertThat(xml.disks()).isEqualTo(cfg.disks().stream().map(d -> new DiskConfig(d.target(), d.vdev(),
                d.devid(), d.readWrite(), d.cdrom(), d.script(), d.discardEnable(), d.backendDomid(), Map.of(),
                xml.disks().get(0).line())).toList());
    }

    @Test
    void lifecycleActionsHaveXlsDefaultsAndAreReadFromXlAndLibvirt() {
        DomainConfig plain = XlConfigParser.parse("a.cfg", "name = \"a\"\n", dir);
        assertThat(plain.actions()).isEqualTo(LifecycleActions.XL_DEFAULTS);
        assertThat(plain.actions().onPoweroff()).isEqualTo(LifecycleAction.DESTROY);
        assertThat(plain.actions().onReboot()).isEqualTo(LifecycleAction.RESTART);
        assertThat(plain.actions().onCrash()).isEqualTo(LifecycleAction.DESTROY);

        DomainConfig set = XlConfigParser.parse("b.cfg", """
                name = "b"
                on_poweroff = "preserve"
                on_reboot = 'destroy'
                on_crash = "restart"
                on_watchdog = "preserve"
                """, dir);
        assertThat(set.actions()).isEqualTo(new LifecycleActions(LifecycleAction.PRESERVE, LifecycleAction.DESTROY,
                LifecycleAction.PRESERVE, LifecycleAction.RESTART));

        DomainConfig xml = LibvirtXmlParser.parse("c.xml", """
                <domain type='xen'>
                  <name>c</name>
                  <on_poweroff>destroy</on_poweroff>
                  <on_reboot>preserve</on_reboot>
                  <on_crash> restart </on_crash>
                </domain>
                """, dir);
        assertThat(xml.actions()).isEqualTo(new LifecycleActions(LifecycleAction.DESTROY, LifecycleAction.PRESERVE,
                LifecycleAction.DESTROY, LifecycleAction.RESTART));
        assertThat(LibvirtXmlParser.parse("d.xml", "<domain><name>d</name></domain>", dir).actions())
                .isEqualTo(LifecycleActions.XL_DEFAULTS);
    }

    @Test
    void lifecycleActionsBackplaneDoesNotDoAreRefusedWithTheirLine() {
        assertThatThrownBy(() -> XlConfigParser.parse("e.cfg", "name = \"e\"\non_crash = \"coredump-restart\"\n", dir))
                .hasMessage("e.cfg:2: on_crash: 'coredump-restart' is not supported (the simulated hypervisor has no"
                        + " guest memory dump): use 'restart'");
        assertThatThrownBy(() -> XlConfigParser.parse("e.cfg", "name = \"e\"\non_reboot = \"rename-restart\"\n", dir))
                .hasMessageStartingWith("e.cfg:2: on_reboot: 'rename-restart' is not supported");
        assertThatThrownBy(() -> XlConfigParser.parse("e.cfg", "name = \"e\"\n\non_poweroff = \"reboot\"\n", dir))
                .hasMessage("e.cfg:3: on_poweroff: 'reboot' is not an action: on_poweroff takes destroy, restart or preserve");
        assertThatThrownBy(() -> XlConfigParser.parse("e.cfg", "name = \"e\"\non_crash = 1\n", dir))
                .hasMessage("e.cfg:2: 'on_crash' must be a \"string\"");
        assertThatThrownBy(() -> LibvirtXmlParser.parse("f.xml", "<domain>\n<name>f</name>\n<on_crash>coredump-destroy</on_crash>\n</domain>", dir))
                .hasMessageContaining("f.xml:3")
                .hasMessageContaining("<on_crash>: 'coredump-destroy' is not supported");
    }
}
