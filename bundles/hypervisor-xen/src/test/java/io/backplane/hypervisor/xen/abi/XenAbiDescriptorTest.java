package io.backplane.hypervisor.xen.abi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Every number of the three descriptor classes against gcc's reading of the Linux Xen device
 * headers: src/test/c/xenabi.c prints offsetof/sizeof of each field and each ioctl number; this
 * test compiles and runs it and compares both ways (a name only one side knows fails too).
 */
class XenAbiDescriptorTest {
    private static final Path GNTDEV_H = Path.of("/usr/include/xen/sys/gntdev.h");

    @Test
    void descriptorsMatchTheDeviceHeaders() throws Exception {
        Map<String, String> fromC = new TreeMap<>();
        for (String line : runProgram().split("\n")) {
            int space = line.indexOf(' ');
            fromC.put(line.substring(0, space), line.substring(space + 1));
        }
        Map<String, String> fromJava = expected();

        assertThat(fromJava.keySet()).as("names printed by xenabi.c vs checked here")
                .containsExactlyInAnyOrderElementsOf(fromC.keySet());
        StringBuilder mismatches = new StringBuilder();
        fromC.forEach((name, c) -> {
            if (!c.equals(fromJava.get(name))) {
                mismatches.append(name).append(": the header says ").append(c)
                        .append(", the descriptor says ").append(fromJava.get(name)).append('\n');
            }
        });
        assertThat(mismatches.toString()).as("descriptor values differing from the headers").isEmpty();
    }

    private static Map<String, String> expected() {
        Map<String, Object> e = new LinkedHashMap<>();
        String g = "ioctl_gntdev_grant_ref.";
        e.put(g + "domid", GntdevAbi.GrantRef.DOMID);
        e.put(g + "ref", GntdevAbi.GrantRef.REF);
        e.put("sizeof.ioctl_gntdev_grant_ref", GntdevAbi.GrantRef.SIZE);
        String m = "ioctl_gntdev_map_grant_ref.";
        e.put(m + "count", GntdevAbi.MapGrantRef.COUNT);
        e.put(m + "pad", GntdevAbi.MapGrantRef.PAD);
        e.put(m + "index", GntdevAbi.MapGrantRef.INDEX);
        e.put(m + "refs", GntdevAbi.MapGrantRef.REFS);
        e.put("sizeof.ioctl_gntdev_map_grant_ref", GntdevAbi.MapGrantRef.SIZE);
        e.put("IOCTL_GNTDEV_MAP_GRANT_REF", GntdevAbi.MapGrantRef.IOCTL);
        String u = "ioctl_gntdev_unmap_grant_ref.";
        e.put(u + "index", GntdevAbi.UnmapGrantRef.INDEX);
        e.put(u + "count", GntdevAbi.UnmapGrantRef.COUNT);
        e.put(u + "pad", GntdevAbi.UnmapGrantRef.PAD);
        e.put("sizeof.ioctl_gntdev_unmap_grant_ref", GntdevAbi.UnmapGrantRef.SIZE);
        e.put("IOCTL_GNTDEV_UNMAP_GRANT_REF", GntdevAbi.UnmapGrantRef.IOCTL);
        String s = "ioctl_gntdev_grant_copy_segment.";
        for (var side : List.of(Map.entry("source", GntdevAbi.GrantCopySegment.SOURCE),
                Map.entry("dest", GntdevAbi.GrantCopySegment.DEST))) {
            int base = side.getValue();
            e.put(s + side.getKey(), base);
            e.put(s + side.getKey() + ".virt", base + GntdevAbi.GrantCopySegment.VIRT);
            e.put(s + side.getKey() + ".foreign.ref", base + GntdevAbi.GrantCopySegment.FOREIGN_REF);
            e.put(s + side.getKey() + ".foreign.offset", base + GntdevAbi.GrantCopySegment.FOREIGN_OFFSET);
            e.put(s + side.getKey() + ".foreign.domid", base + GntdevAbi.GrantCopySegment.FOREIGN_DOMID);
        }
        e.put("sizeof." + s + "source", GntdevAbi.GrantCopySegment.SIDE_SIZE);
        e.put(s + "len", GntdevAbi.GrantCopySegment.LEN);
        e.put(s + "flags", GntdevAbi.GrantCopySegment.FLAGS);
        e.put(s + "status", GntdevAbi.GrantCopySegment.STATUS);
        e.put("sizeof.ioctl_gntdev_grant_copy_segment", GntdevAbi.GrantCopySegment.SIZE);
        e.put("GNTCOPY_source_gref", GntdevAbi.GrantCopySegment.GNTCOPY_SOURCE_GREF);
        e.put("GNTCOPY_dest_gref", GntdevAbi.GrantCopySegment.GNTCOPY_DEST_GREF);
        e.put("ioctl_gntdev_grant_copy.count", GntdevAbi.GrantCopy.COUNT);
        e.put("ioctl_gntdev_grant_copy.segments", GntdevAbi.GrantCopy.SEGMENTS);
        e.put("sizeof.ioctl_gntdev_grant_copy", GntdevAbi.GrantCopy.SIZE);
        e.put("IOCTL_GNTDEV_GRANT_COPY", GntdevAbi.GrantCopy.IOCTL);

        e.put("ioctl_evtchn_bind_interdomain.remote_domain", EvtchnAbi.BindInterdomain.REMOTE_DOMAIN);
        e.put("ioctl_evtchn_bind_interdomain.remote_port", EvtchnAbi.BindInterdomain.REMOTE_PORT);
        e.put("sizeof.ioctl_evtchn_bind_interdomain", EvtchnAbi.BindInterdomain.SIZE);
        e.put("IOCTL_EVTCHN_BIND_INTERDOMAIN", EvtchnAbi.BindInterdomain.IOCTL);
        e.put("ioctl_evtchn_bind_unbound_port.remote_domain", EvtchnAbi.BindUnboundPort.REMOTE_DOMAIN);
        e.put("sizeof.ioctl_evtchn_bind_unbound_port", EvtchnAbi.BindUnboundPort.SIZE);
        e.put("IOCTL_EVTCHN_BIND_UNBOUND_PORT", EvtchnAbi.BindUnboundPort.IOCTL);
        e.put("ioctl_evtchn_unbind.port", EvtchnAbi.Unbind.PORT);
        e.put("sizeof.ioctl_evtchn_unbind", EvtchnAbi.Unbind.SIZE);
        e.put("IOCTL_EVTCHN_UNBIND", EvtchnAbi.Unbind.IOCTL);
        e.put("ioctl_evtchn_notify.port", EvtchnAbi.Notify.PORT);
        e.put("sizeof.ioctl_evtchn_notify", EvtchnAbi.Notify.SIZE);
        e.put("IOCTL_EVTCHN_NOTIFY", EvtchnAbi.Notify.IOCTL);
        e.put("sizeof.evtchn_port", EvtchnAbi.PORT_SIZE);
        e.put("IOCTL_EVTCHN_RESET", EvtchnAbi.RESET_IOCTL);

        String p = "privcmd_mmapbatch_v2_t.";
        e.put(p + "num", PrivcmdAbi.MmapBatchV2.NUM);
        e.put(p + "dom", PrivcmdAbi.MmapBatchV2.DOM);
        e.put(p + "addr", PrivcmdAbi.MmapBatchV2.ADDR);
        e.put(p + "arr", PrivcmdAbi.MmapBatchV2.ARR);
        e.put(p + "err", PrivcmdAbi.MmapBatchV2.ERR);
        e.put("sizeof.privcmd_mmapbatch_v2_t", PrivcmdAbi.MmapBatchV2.SIZE);
        e.put("IOCTL_PRIVCMD_MMAPBATCH_V2", PrivcmdAbi.MmapBatchV2.IOCTL);
        e.put("sizeof.xen_pfn_t", PrivcmdAbi.PFN_SIZE);
        e.put("sizeof.privcmd_err", PrivcmdAbi.ERR_SIZE);

        Map<String, String> out = new TreeMap<>();
        e.forEach((k, v) -> out.put(k, String.valueOf(v)));
        return out;
    }

    private static String runProgram() throws IOException, InterruptedException {
        if (!Files.exists(GNTDEV_H)) {
            throw new AssertionError("Xen's Linux device headers are missing (" + GNTDEV_H
                    + "): install them with `apt-get install libxen-dev`");
        }
        Path base = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();
        Path out = Files.createDirectories(base.resolve("target/test-c")).resolve("xenabi");
        String gccOut = exec(List.of("gcc", "-Wall", "-Werror", "-std=gnu11",
                "-D__XEN_INTERFACE_VERSION__=__XEN_LATEST_INTERFACE_VERSION__", "-o", out.toString(),
                base.resolve("src/test/c/xenabi.c").toString()), "gcc (apt-get install gcc)");
        assertThat(gccOut).as("gcc output").isEmpty();
        return exec(List.of(out.toString()), "xenabi");
    }

    private static String exec(List<String> cmd, String what) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError(what + " could not be started: " + e.getMessage());
        }
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new AssertionError(what + " failed:\n" + output);
        }
        return output;
    }
}
