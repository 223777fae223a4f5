package io.backplane.blkback;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.hypervisor.sim.abi.SimGuestHeader;
import io.backplane.nativeio.NativeIo;
import io.backplane.ring.RingShape;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/ring-layouts.md and ring_layouts.h are enough for a C frontend: src/test/c/blkfront_layouts.c,
 * built here with gcc against Xen's headers and the header ring-core ships, lays out split-index
 * and separate rings (multi-page too), connects to blkback and writes, reads back and checks
 * every sector; the image file holds exactly what it wrote.
 */
class BlkCFrontendLayoutTest {
    static final int DEVID = 51712;
    static final int PAGES_WRITTEN = 300;
    static NativeIo io;
    static Path binary;

    @TempDir
    Path dir;
    SimWorld world;
    Path image;

    @BeforeAll
    static void build() throws Exception {
        io = new NativeIo();
        binary = compile();
    }

    @AfterAll
    static void dropLibc() {
        io = null;
    }

    @BeforeEach
    void start() throws Exception {
        world = new SimWorld(dir, io);
        image = dir.resolve("disk.img");
        byte[] garbage = new byte[4 << 20];
        Arrays.fill(garbage, (byte) 0xEE);
        Files.write(image, garbage);
    }

    @AfterEach
    void stop() {
        world.close();
    }

    @Test
    void splitIndexesAndSeparateRingsOnATwoPageRing() throws Exception {
        assertThat(runFrontend(5, 2)).contains("flags 5, 64 ring slots, 2400 sectors written and checked");
    }

    @Test
    void separateRingsAlone() throws Exception {
        assertThat(runFrontend(4, 1)).contains("flags 4, 32 ring slots, 2400 sectors written and checked");
    }

    @Test
    void everyFeatureTogether() throws Exception {
        assertThat(runFrontend(7, 1)).contains("flags 7, 16 ring slots, 2400 sectors written and checked");
    }

    /** One C guest against blkback offering every layout feature; returns its output. */
    private String runFrontend(int flags, int pages) throws Exception {
        int domid = world.createDomain("c-blk", 1024);
        RingShape wanted = new RingShape((flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0);
        try (VbdHarness vbd = world.attachVbd(domid, DEVID, Map.of("params", image.toString(), "mode", "w"),
                BlkRingLayoutTest.offer(new RingShape(true, true, true)))) {
            Process p = new ProcessBuilder(binary.toString(), dir.toString(), Integer.toString(domid),
                    Integer.toString(DEVID), Integer.toString(flags), Integer.toString(pages), Integer.toString(PAGES_WRITTEN))
                    .redirectErrorStream(true).start();
            String out;
            try (InputStream in = p.getInputStream()) {
                assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("C frontend finished").isTrue();
                out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            assertThat(p.exitValue()).as(out + "\nbackend: " + vbd.logs).isZero();
            assertThat(vbd.status().get("queue-0/ring"))
                    .startsWith(wanted.describe() + "/" + (wanted.separateRings() ? "2x" : "") + pages + (pages == 1 ? " page" : " pages"));
            assertThat(vbd.fatals).isEmpty();
            byte[] disk = Files.readAllBytes(image);
            for (int b = 0; b < PAGES_WRITTEN * 4096; b++) {
                long sector = b / 512;
                int at = b % 512;
                if (disk[b] != pattern(sector, at)) {
                    throw new AssertionError("image sector " + sector + " byte " + at + " is " + disk[b]);
                }
            }
            assertThat(disk[PAGES_WRITTEN * 4096]).as("beyond what was written").isEqualTo((byte) 0xEE);
            return out;
        }
    }

    /** blkfront_layouts.c's pattern(). */
    private static byte pattern(long sector, int b) {
        return (byte) (sector * 7 + b * 13L + (b >> 8) + 0x5a);
    }

    static Path compile() throws Exception {
        return compile("blkfront_layouts");
    }

    /**
     * gcc of src/test/c/NAME.c against Xen's headers and libxenstore, with ring-core's
     * ring_layouts.h and sim-abi's sim_guest.h from the classpath.
     */
    static Path compile(String name) throws Exception {
        Path include = Files.createDirectories(Path.of("target/test-c/include/backplane").toAbsolutePath());
        try (InputStream h = BlkCFrontendLayoutTest.class.getResourceAsStream("/io/backplane/ring/c/backplane/ring_layouts.h")) {
            assertThat(h).as("ring-core's ring_layouts.h on the classpath").isNotNull();
            Files.write(include.resolve("ring_layouts.h"), h.readAllBytes());
        }
        SimGuestHeader.copyTo(include.getParent());
        assertThat(Path.of("/usr/include/xen/io/ring.h")).as("Xen's headers: apt-get install libxen-dev").exists();
        assertThat(Path.of("/usr/include/xenstore.h")).as("libxenstore's header: apt-get install libxen-dev").exists();
        Path source = Path.of("src/test/c/" + name + ".c").toAbsolutePath();
        Path out = Path.of("target/test-c/" + name).toAbsolutePath();
        List<String> cmd = new ArrayList<>(List.of("gcc", "-O2", "-Wall", "-Wextra", "-Werror",
                "-I", include.getParent().toString(), "-o", out.toString(), source.toString(), "-lxenstore"));
        Process gcc;
        try {
            gcc = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("gcc not found: apt-get install gcc", e);
        }
        String log = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(gcc.waitFor()).as("gcc " + source + ":\n" + log).isZero();
        return out;
    }
}
