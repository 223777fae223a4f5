package io.backplane.blkback;

import static io.backplane.ring.layout.BlkifConstants.BLKIF_DISCARD_SECURE;
import static io.backplane.ring.layout.BlkifConstants.BLKIF_OP_DISCARD;
import static io.backplane.ring.layout.BlkifConstants.BLKIF_OP_FLUSH_DISKCACHE;
import static io.backplane.ring.layout.BlkifConstants.BLKIF_OP_INDIRECT;
import static io.backplane.ring.layout.BlkifConstants.BLKIF_OP_READ;
import static io.backplane.ring.layout.BlkifConstants.BLKIF_OP_WRITE;
import static io.backplane.ring.layout.BlkifConstants.BLKIF_OP_WRITE_BARRIER;
import static io.backplane.ring.layout.BlkifConstants.BLKIF_RSP_EOPNOTSUPP;
import static io.backplane.ring.layout.BlkifConstants.BLKIF_RSP_ERROR;
import static io.backplane.ring.layout.BlkifConstants.BLKIF_RSP_OKAY;
import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.nativeio.MemoryMapping;
import io.backplane.nativeio.NativeIo;
import io.backplane.nativeio.Posix;
import io.backplane.ring.BlkifRequest;
import io.backplane.ring.BlkifResponse;
import io.backplane.ring.layout.BlkifRequestDescriptor;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * blkback's data path and Linux's request validation, request by request, from a hand-driven
 * frontend on the real sim (grant checks, event channels) and a real image file.
 */
class BlkbackRequestTest {
    static final int DEVID = 51712;
    static final int IMAGE_SECTORS = 8192; // 4 MiB
    static NativeIo io;

    @TempDir
    Path dir;
    SimWorld world;
    Path image;
    byte[] original;
    int domid;

    @BeforeAll
    static void loadLibc() {
        io = new NativeIo();
    }

    @AfterAll
    static void dropLibc() {
        io = null;
    }

    @BeforeEach
    void start() throws IOException {
        world = new SimWorld(dir, io);
        image = dir.resolve("disk.img");
        original = new byte[IMAGE_SECTORS * 512];
        new Random(42).nextBytes(original);
        Files.write(image, original);
        domid = world.createDomain("raw", 1024);
    }

    @AfterEach
    void stop() {
        world.close();
    }

    VbdHarness vbd(int devid, String mode, Map<String, String> offer) {
        return world.attachVbd(domid, devid, Map.of("params", image.toString(), "mode", mode), offer);
    }

    static Map<String, String> offer() {
        return BlkEndToEndTest.offer(2, 2);
    }

    RawFront front(int devid, int order) throws IOException {
        return new RawFront(dir, domid, devid, order);
    }

    static BlkifRequest rw(int op, long id, long sector, int[] grefs, int first, int last) {
        BlkifRequest r = new BlkifRequest().clear().operation(op).id(id).sectorNumber(sector).handle(DEVID)
                .nrSegments(grefs.length);
        for (int i = 0; i < grefs.length; i++) {
            r.segment(i, grefs[i], first, last);
        }
        return r;
    }

    static void assertAnswer(BlkifResponse r, long id, int op, int status) {
        assertThat(r.id).as("response id").isEqualTo(id);
        assertThat(r.operation).as("response operation of %d", id).isEqualTo(op);
        assertThat(r.status).as("status of request %d", id).isEqualTo(status);
    }

    byte[] imageBytes(long sector, int bytes) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "r")) {
            byte[] b = new byte[bytes];
            f.seek(sector * 512);
            f.readFully(b);
            return b;
        }
    }

    @Test
    void writesLandInTheImageAndReadsComeBackWithPartialSegments() throws Exception {
        try (VbdHarness vbd = vbd(DEVID, "w", offer()); RawFront fe = front(DEVID, 0)) {
            fe.connect(Map.of(), false);
            vbd.awaitFrontendState("3", 5000);
            awaitBackend(vbd, "4");
            long[] a = fe.grantedPage(false);
            long[] b = fe.grantedPage(false);
            for (int i = 0; i < 4096; i++) {
                fe.page(a[0]).put(i, (byte) i);
                fe.page(b[0]).put(i, (byte) (255 - i));
            }
            // Sectors 2..5 of page a, then 2..5 of page b: 8 sectors written at sector 100.
            assertAnswer(fe.call(rw(BLKIF_OP_WRITE, 7, 100, new int[] {(int) a[1], (int) b[1]}, 2, 5)),
                    7, BLKIF_OP_WRITE, BLKIF_RSP_OKAY);
            byte[] disk = imageBytes(100, 8 * 512);
            for (int i = 0; i < 2048; i++) {
                assertThat(disk[i]).isEqualTo((byte) (1024 + i));
                assertThat(disk[2048 + i]).isEqualTo((byte) (255 - (1024 + i)));
            }
            assertThat(imageBytes(99, 512)).isEqualTo(java.util.Arrays.copyOfRange(original, 99 * 512, 100 * 512));

            long[] c = fe.grantedPage(false);
            assertAnswer(fe.call(rw(BLKIF_OP_READ, 8, 0, new int[] {(int) c[1]}, 0, 7)), 8, BLKIF_OP_READ, BLKIF_RSP_OKAY);
            for (int i = 0; i < 4096; i++) {
                assertThat(fe.page(c[0]).get(i)).isEqualTo(original[i]);
            }
            assertThat(world.xs.read(vbd.id.backendPath() + "/sectors")).isEqualTo(Integer.toString(IMAGE_SECTORS));
        }
    }

    @Test
    void malformedRequestsGetLinuxsAnswersAndTheDeviceGoesOn() throws Exception {
        try (VbdHarness vbd = vbd(DEVID, "w", offer()); RawFront fe = front(DEVID, 0)) {
            fe.connect(Map.of(), false);
            awaitBackend(vbd, "4");
            int g = (int) fe.grantedPage(false)[1];
            int[] eleven = new int[11];
            java.util.Arrays.fill(eleven, g);

            assertAnswer(fe.call(rw(BLKIF_OP_READ, 1, 0, new int[0], 0, 7)), 1, BLKIF_OP_READ, BLKIF_RSP_ERROR);
            assertAnswer(fe.call(rw(BLKIF_OP_WRITE, 2, 0, eleven, 0, 7).nrSegments(12)), 2, BLKIF_OP_WRITE, BLKIF_RSP_ERROR);
            assertAnswer(fe.call(rw(BLKIF_OP_READ, 3, 0, new int[] {g}, 5, 4)), 3, BLKIF_OP_READ, BLKIF_RSP_ERROR);
            assertAnswer(fe.call(rw(BLKIF_OP_READ, 4, 0, new int[] {g}, 0, 8)), 4, BLKIF_OP_READ, BLKIF_RSP_ERROR);
            assertAnswer(fe.call(rw(BLKIF_OP_READ, 5, IMAGE_SECTORS - 4, new int[] {g}, 0, 7)), 5, BLKIF_OP_READ, BLKIF_RSP_ERROR);
            assertAnswer(fe.call(rw(BLKIF_OP_READ, 6, -1L, new int[] {g}, 0, 7)), 6, BLKIF_OP_READ, BLKIF_RSP_ERROR);
            assertAnswer(fe.call(rw(4, 9, 0, new int[] {g}, 0, 7)), 9, 4, BLKIF_RSP_EOPNOTSUPP);
            assertAnswer(fe.call(rw(200, 10, 0, new int[] {g}, 0, 7)), 10, 200, BLKIF_RSP_EOPNOTSUPP);
            // A grant the guest never made: GNTTABOP_copy refuses it, the request fails alone.
            assertAnswer(fe.call(rw(BLKIF_OP_WRITE, 11, 0, new int[] {900}, 0, 7)), 11, BLKIF_OP_WRITE, BLKIF_RSP_ERROR);
            // Indirect with an operation other than read or write, and with more segments than offered.
            BlkifRequest badIndirect = new BlkifRequest().clear().operation(BLKIF_OP_INDIRECT).id(12)
                    .indirect(BLKIF_OP_FLUSH_DISKCACHE, 1, DEVID).indirectGref(0, g);
            assertAnswer(fe.call(badIndirect), 12, BLKIF_OP_FLUSH_DISKCACHE, BLKIF_RSP_ERROR);
            BlkifRequest tooMany = new BlkifRequest().clear().operation(BLKIF_OP_INDIRECT).id(13)
                    .indirect(BLKIF_OP_READ, 257, DEVID).indirectGref(0, g);
            assertAnswer(fe.call(tooMany), 13, BLKIF_OP_READ, BLKIF_RSP_ERROR);
            assertThat(imageBytes(0, original.length)).isEqualTo(original);

            // Still serving: a good request after all of that.
            assertAnswer(fe.call(rw(BLKIF_OP_READ, 14, 8, new int[] {g}, 0, 7)), 14, BLKIF_OP_READ, BLKIF_RSP_OKAY);
            assertThat(vbd.backendState()).isEqualTo("4");
            assertThat(vbd.fatals).isEmpty();
            assertThat(vbd.status().get("queue-0/errors")).isEqualTo("9");
            assertThat(vbd.status().get("queue-0/eopnotsupp")).isEqualTo("2");
        }
    }

    @Test
    void indirectRequestsCarryUpTo256SegmentsThroughGrantedSegmentPages() throws Exception {
        try (VbdHarness vbd = vbd(DEVID, "w", offer()); RawFront fe = front(DEVID, 0)) {
            fe.connect(Map.of(), false);
            awaitBackend(vbd, "4");
            int nseg = 40;
            long[] segPage = fe.grantedPage(true);
            long[][] data = new long[nseg][];
            ByteBuffer segs = fe.page(segPage[0]);
            for (int i = 0; i < nseg; i++) {
                data[i] = fe.grantedPage(false);
                for (int k = 0; k < 4096; k++) {
                    fe.page(data[i][0]).put(k, (byte) (i * 31 + k));
                }
                segs.putInt(i * 8 + BlkifRequestDescriptor.SEGMENT_GREF_OFFSET, (int) data[i][1]);
                segs.put(i * 8 + BlkifRequestDescriptor.SEGMENT_FIRST_SECT_OFFSET, (byte) 0);
                segs.put(i * 8 + BlkifRequestDescriptor.SEGMENT_LAST_SECT_OFFSET, (byte) 7);
            }
            BlkifRequest write = new BlkifRequest().clear().operation(BLKIF_OP_INDIRECT).id(21).sectorNumber(1000)
                    .indirect(BLKIF_OP_WRITE, nseg, DEVID).indirectGref(0, (int) segPage[1]);
            assertAnswer(fe.call(write), 21, BLKIF_OP_WRITE, BLKIF_RSP_OKAY);
            byte[] disk = imageBytes(1000, nseg * 4096);
            for (int i = 0; i < nseg; i++) {
                for (int k = 0; k < 4096; k++) {
                    assertThat(disk[i * 4096 + k]).isEqualTo((byte) (i * 31 + k));
                }
            }
            // Read it back into fresh pages through the same segment list shape.
            for (int i = 0; i < nseg; i++) {
                data[i] = fe.grantedPage(false);
                segs.putInt(i * 8 + BlkifRequestDescriptor.SEGMENT_GREF_OFFSET, (int) data[i][1]);
            }
            BlkifRequest read = new BlkifRequest().clear().operation(BLKIF_OP_INDIRECT).id(22).sectorNumber(1000)
                    .indirect(BLKIF_OP_READ, nseg, DEVID).indirectGref(0, (int) segPage[1]);
            assertAnswer(fe.call(read), 22, BLKIF_OP_READ, BLKIF_RSP_OKAY);
            for (int i = 0; i < nseg; i++) {
                for (int k = 0; k < 4096; k++) {
                    assertThat(fe.page(data[i][0]).get(k)).isEqualTo((byte) (i * 31 + k));
                }
            }
        }
    }

    /**
     * Requests published together that follow each other on the disk become one preadv/pwritev
     * (as blkfront cuts a 1 MiB I/O into indirect requests of 128 KiB): on persistent grants, a
     * batch of indirect writes with partial first and last segments, broken by a gap and by a
     * read, lands byte for byte where each request said, every request is answered OKAY once,
     * and reading it all back in one batch gives the same bytes.
     */
    @Test
    void consecutiveRequestsAreMergedIntoOneIoAndEveryByteLandsWhereItsRequestSaid() throws Exception {
        world.allStrategies = true;
        try (VbdHarness vbd = vbd(DEVID, "w", offer()); RawFront fe = front(DEVID, 0)) {
            fe.connect(Map.of("feature-persistent", "1"), false);
            awaitBackend(vbd, "4");
            assertThat(vbd.status().get("queue-0/strategy")).isEqualTo("persistent");
            // {sector, segments}: three that follow each other, a gap, two more that follow.
            long[][] shape = {{2000, 20}, {-1, 16}, {-1, 5}, {3000, 12}, {-1, 32}};
            int n = shape.length;
            long[] sector = new long[n];
            long[] sectors = new long[n];
            long[][][] pages = new long[n][][];
            long[][] segPage = new long[n][];
            Random random = new Random(7);
            long at = 0;
            for (int r = 0; r < n; r++) {
                sector[r] = shape[r][0] >= 0 ? shape[r][0] : at;
                int nseg = (int) shape[r][1];
                pages[r] = new long[nseg][];
                segPage[r] = fe.grantedPage(true);
                ByteBuffer segs = fe.page(segPage[r][0]);
                for (int i = 0; i < nseg; i++) {
                    pages[r][i] = fe.grantedPage(false);
                    byte[] fill = new byte[4096];
                    random.nextBytes(fill);
                    fe.page(pages[r][i][0]).put(0, fill);
                    // The first segment starts mid-page and the last ends mid-page, as a
                    // request not aligned to pages does.
                    int first = i == 0 ? 3 : 0;
                    int last = i == nseg - 1 ? 4 : 7;
                    segs.putInt(i * 8 + BlkifRequestDescriptor.SEGMENT_GREF_OFFSET, (int) pages[r][i][1]);
                    segs.put(i * 8 + BlkifRequestDescriptor.SEGMENT_FIRST_SECT_OFFSET, (byte) first);
                    segs.put(i * 8 + BlkifRequestDescriptor.SEGMENT_LAST_SECT_OFFSET, (byte) last);
                    sectors[r] += last - first + 1;
                }
                at = sector[r] + sectors[r];
            }
            // One read in the middle of the batch (of sectors nobody writes): it must not join.
            long[] readPage = fe.grantedPage(false);
            for (int r = 0; r < n; r++) {
                if (r == 2) {
                    fe.ring.putRequest(rw(BLKIF_OP_READ, 99, 100, new int[] {(int) readPage[1]}, 0, 7));
                }
                fe.ring.putRequest(new BlkifRequest().clear().operation(BLKIF_OP_INDIRECT).id(40 + r)
                        .sectorNumber(sector[r]).indirect(BLKIF_OP_WRITE, (int) shape[r][1], DEVID)
                        .indirectGref(0, (int) segPage[r][1]));
            }
            fe.publish(); // all at once, as blk-mq's batch reaches the ring before blkback looks
            java.util.Set<Long> answered = new java.util.HashSet<>();
            for (int k = 0; k <= n; k++) {
                BlkifResponse a = fe.next();
                assertThat(answered.add(a.id)).as("request %d answered once", a.id).isTrue();
                assertThat(a.status).as("status of request %d", a.id).isEqualTo(BLKIF_RSP_OKAY);
                assertThat(a.operation).isEqualTo(a.id == 99 ? BLKIF_OP_READ : BLKIF_OP_WRITE);
            }
            assertThat(fe.ring.unconsumedResponses()).isZero();
            for (int i = 0; i < 4096; i++) {
                assertThat(fe.page(readPage[0]).get(i)).isEqualTo(original[100 * 512 + i]);
            }
            for (int r = 0; r < n; r++) {
                byte[] want = expected(fe, pages[r]);
                assertThat(imageBytes(sector[r], want.length)).as("image at request %d's sectors", 40 + r).isEqualTo(want);
            }
            int after = (int) (sector[2] + sectors[2]);
            assertThat(imageBytes(after, 512)).as("the sector after the first run is untouched")
                    .isEqualTo(java.util.Arrays.copyOfRange(original, after * 512, (after + 1) * 512));

            // Read everything back into zeroed pages, all requests published at once.
            for (int r = 0; r < n; r++) {
                ByteBuffer segs = fe.page(segPage[r][0]);
                for (int i = 0; i < pages[r].length; i++) {
                    fe.page(pages[r][i][0]).put(0, new byte[4096]);
                }
                fe.ring.putRequest(new BlkifRequest().clear().operation(BLKIF_OP_INDIRECT).id(60 + r)
                        .sectorNumber(sector[r]).indirect(BLKIF_OP_READ, pages[r].length, DEVID)
                        .indirectGref(0, (int) segPage[r][1]));
            }
            fe.publish();
            for (int k = 0; k < n; k++) {
                BlkifResponse a = fe.next();
                assertThat(a.status).as("status of request %d", a.id).isEqualTo(BLKIF_RSP_OKAY);
                assertThat(a.operation).isEqualTo(BLKIF_OP_READ);
            }
            for (int r = 0; r < n; r++) {
                assertThat(expected(fe, pages[r])).as("read back by request %d", 60 + r)
                        .isEqualTo(imageBytes(sector[r], expected(fe, pages[r]).length));
            }
            Map<String, String> status = vbd.status();
            assertThat(status.get("queue-0/zero-copy-requests")).isEqualTo(Integer.toString(2 * n + 1));
            // One req_prod for each batch, so the worker took each batch whole: write 41 joined 40,
            // the read (99) joined nothing and ended that run, so 42 started a new one (the block
            // layer merges only what it sees next to each other too), 44 joined 43; reads 61, 62
            // joined 60 and 64 joined 63.
            assertThat(status.get("queue-0/merged-requests")).isEqualTo("5");
            assertThat(status.get("queue-0/errors")).isEqualTo("0");
        }
    }

    /** The bytes a request's segments carry, in order (first segment from sector 3, last to sector 4). */
    static byte[] expected(RawFront fe, long[][] pages) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < pages.length; i++) {
            int first = i == 0 ? 3 : 0;
            int last = i == pages.length - 1 ? 4 : 7;
            byte[] b = new byte[(last - first + 1) * 512];
            fe.page(pages[i][0]).get(first * 512, b);
            out.writeBytes(b);
        }
        return out.toByteArray();
    }

    @Test
    void aReadOnlyVbdRefusesWritesFlushesAndDiscardsButReads() throws Exception {
        try (VbdHarness vbd = vbd(DEVID, "r", offer()); RawFront fe = front(DEVID, 0)) {
            fe.connect(Map.of(), false);
            awaitBackend(vbd, "4");
            assertThat(world.xs.read(vbd.id.backendPath() + "/info")).isEqualTo("4"); // VDISK_READONLY
            long[] p = fe.grantedPage(false);
            fe.page(p[0]).put(0, (byte) 1);
            assertAnswer(fe.call(rw(BLKIF_OP_WRITE, 31, 0, new int[] {(int) p[1]}, 0, 7)), 31, BLKIF_OP_WRITE, BLKIF_RSP_ERROR);
            assertAnswer(fe.call(new BlkifRequest().clear().operation(BLKIF_OP_FLUSH_DISKCACHE).id(32)),
                    32, BLKIF_OP_FLUSH_DISKCACHE, BLKIF_RSP_ERROR);
            assertAnswer(fe.call(new BlkifRequest().clear().operation(BLKIF_OP_DISCARD).id(33).sectorNumber(0).discard(0, 8)),
                    33, BLKIF_OP_DISCARD, BLKIF_RSP_ERROR);
            assertAnswer(fe.call(rw(BLKIF_OP_READ, 34, 0, new int[] {(int) p[1]}, 0, 7)), 34, BLKIF_OP_READ, BLKIF_RSP_OKAY);
            assertThat(fe.page(p[0]).get(0)).isEqualTo(original[0]);
            assertThat(imageBytes(0, original.length)).isEqualTo(original);
        }
    }

    /**
     * libxl writes discard-enable=0 for a read-only disk, so no feature-discard is offered; a
     * discard sent anyway still meets Linux's access check first (dispatch_discard_io calls
     * xen_vbd_translate before anything else): BLKIF_RSP_ERROR, not EOPNOTSUPP.
     */
    @Test
    void aDiscardOnAReadOnlyVbdWithoutDiscardOfferedIsAnErrorAsInLinux() throws Exception {
        try (VbdHarness vbd = world.attachVbd(domid, DEVID,
                Map.of("params", image.toString(), "mode", "r", "discard-enable", "0"), offer());
             RawFront fe = front(DEVID, 0)) {
            fe.connect(Map.of(), false);
            awaitBackend(vbd, "4");
            assertThat(world.xs.read(vbd.id.backendPath() + "/feature-discard")).isEqualTo("0");
            assertAnswer(fe.call(new BlkifRequest().clear().operation(BLKIF_OP_DISCARD).id(35).sectorNumber(0).discard(0, 8)),
                    35, BLKIF_OP_DISCARD, BLKIF_RSP_ERROR);
            assertAnswer(fe.call(new BlkifRequest().clear().operation(BLKIF_OP_DISCARD).id(36).sectorNumber(0)
                    .discard(BLKIF_DISCARD_SECURE, 8)), 36, BLKIF_OP_DISCARD, BLKIF_RSP_ERROR);
            assertThat(imageBytes(0, original.length)).isEqualTo(original);
        }
    }

    @Test
    void discardPunchesAHoleThatReadsBackAsZerosAndSecureDiscardIsRefused() throws Exception {
        try (VbdHarness vbd = vbd(DEVID, "w", offer()); RawFront fe = front(DEVID, 0)) {
            fe.connect(Map.of(), false);
            awaitBackend(vbd, "4");
            assertThat(world.xs.read(vbd.id.backendPath() + "/feature-discard")).isEqualTo("1");
            assertThat(world.xs.read(vbd.id.backendPath() + "/discard-granularity")).isEqualTo("4096");
            assertThat(world.xs.read(vbd.id.backendPath() + "/discard-secure")).isEqualTo("0");
            long blocksBefore = blocks(image);
            assertAnswer(fe.call(new BlkifRequest().clear().operation(BLKIF_OP_DISCARD).id(41).sectorNumber(2048).discard(0, 2048)),
                    41, BLKIF_OP_DISCARD, BLKIF_RSP_OKAY);
            assertThat(imageBytes(2048, 2048 * 512)).containsOnly(0);
            assertThat(imageBytes(2047, 512)).isEqualTo(java.util.Arrays.copyOfRange(original, 2047 * 512, 2048 * 512));
            assertThat(imageBytes(4096, 512)).isEqualTo(java.util.Arrays.copyOfRange(original, 4096 * 512, 4097 * 512));
            assertThat(blocks(image)).as("blocks given back").isLessThan(blocksBefore);

            long[] p = fe.grantedPage(false);
            fe.page(p[0]).put(100, (byte) 9);
            assertAnswer(fe.call(rw(BLKIF_OP_READ, 42, 2048, new int[] {(int) p[1]}, 0, 7)), 42, BLKIF_OP_READ, BLKIF_RSP_OKAY);
            for (int i = 0; i < 4096; i++) {
                assertThat(fe.page(p[0]).get(i)).isZero();
            }
            assertAnswer(fe.call(new BlkifRequest().clear().operation(BLKIF_OP_DISCARD).id(43).sectorNumber(0)
                    .discard(BLKIF_DISCARD_SECURE, 8)), 43, BLKIF_OP_DISCARD, BLKIF_RSP_EOPNOTSUPP);
            assertAnswer(fe.call(new BlkifRequest().clear().operation(BLKIF_OP_DISCARD).id(44).sectorNumber(IMAGE_SECTORS - 4)
                    .discard(0, 8)), 44, BLKIF_OP_DISCARD, BLKIF_RSP_ERROR);
            assertThat(imageBytes(0, 4096)).isEqualTo(java.util.Arrays.copyOfRange(original, 0, 4096));
        }
    }

    @Test
    void anAcknowledgedFlushLeavesNoDirtyPageOfTheImage() throws Exception {
        try (VbdHarness vbd = vbd(DEVID, "w", offer()); RawFront fe = front(DEVID, 0)) {
            fe.connect(Map.of(), false);
            awaitBackend(vbd, "4");
            int[] grefs = new int[8];
            for (int i = 0; i < 8; i++) {
                long[] p = fe.grantedPage(false);
                fe.page(p[0]).put(0, (byte) (i + 1));
                grefs[i] = (int) p[1];
            }
            assertAnswer(fe.call(rw(BLKIF_OP_WRITE, 51, 4096, grefs, 0, 7)), 51, BLKIF_OP_WRITE, BLKIF_RSP_OKAY);
            // Written but not flushed: the page cache holds the only copy (the kernel writes dirty
            // pages back after 30 s by default, long after this).
            assertThat(dirtyPages(4096 * 512L, 8)).as("dirty before the flush").isPositive();
            assertAnswer(fe.call(new BlkifRequest().clear().operation(BLKIF_OP_FLUSH_DISKCACHE).id(52)),
                    52, BLKIF_OP_FLUSH_DISKCACHE, BLKIF_RSP_OKAY);
            assertThat(dirtyPages(4096 * 512L, 8)).as("dirty after the flush was acknowledged").isZero();

            // A barrier with data: written and durable when answered.
            assertAnswer(fe.call(rw(BLKIF_OP_WRITE_BARRIER, 53, 6144, grefs, 0, 7)), 53, BLKIF_OP_WRITE_BARRIER, BLKIF_RSP_OKAY);
            assertThat(dirtyPages(6144 * 512L, 8)).isZero();
            assertThat(imageBytes(6144, 1)[0]).isEqualTo((byte) 1);
        }
    }

    @Test
    void unofferedOperationsAreEopnotsupp() throws Exception {
        Map<String, String> offer = new java.util.LinkedHashMap<>(offer());
        offer.put("feature-flush-cache", "0");
        offer.put("feature-barrier", "0");
        offer.put("feature-discard", "0");
        offer.put("feature-max-indirect-segments", "0");
        try (VbdHarness vbd = vbd(DEVID, "w", offer); RawFront fe = front(DEVID, 0)) {
            fe.connect(Map.of(), false);
            awaitBackend(vbd, "4");
            assertThat(world.xs.read(vbd.id.backendPath() + "/feature-flush-cache")).isEqualTo("0");
            int g = (int) fe.grantedPage(false)[1];
            assertAnswer(fe.call(new BlkifRequest().clear().operation(BLKIF_OP_FLUSH_DISKCACHE).id(61)),
                    61, BLKIF_OP_FLUSH_DISKCACHE, BLKIF_RSP_EOPNOTSUPP);
            assertAnswer(fe.call(rw(BLKIF_OP_WRITE_BARRIER, 62, 0, new int[] {g}, 0, 7)), 62, BLKIF_OP_WRITE_BARRIER, BLKIF_RSP_EOPNOTSUPP);
            assertAnswer(fe.call(new BlkifRequest().clear().operation(BLKIF_OP_DISCARD).id(63).sectorNumber(0).discard(0, 8)),
                    63, BLKIF_OP_DISCARD, BLKIF_RSP_EOPNOTSUPP);
            assertAnswer(fe.call(new BlkifRequest().clear().operation(BLKIF_OP_INDIRECT).id(64)
                    .indirect(BLKIF_OP_READ, 1, DEVID).indirectGref(0, g)), 64, BLKIF_OP_INDIRECT, BLKIF_RSP_EOPNOTSUPP);
        }
    }

    static void awaitBackend(VbdHarness vbd, String state) throws InterruptedException {
        long end = System.currentTimeMillis() + 10_000;
        while (!state.equals(vbd.backendState())) {
            assertThat(System.currentTimeMillis()).as("backend state " + state + ", fatal " + vbd.fatals).isLessThan(end);
            Thread.sleep(10);
        }
    }

    static long blocks(Path file) throws IOException {
        return ((Number) Files.getAttribute(file, "unix:size")).longValue() >= 0
                ? Long.parseLong(run("stat", "-c", "%b", file.toString())) : 0;
    }

    static String run(String... cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return new String(p.getInputStream().readAllBytes()).trim();
    }

    /** One little-endian u64 in a single read: pagemap and kpageflags refuse reads of fewer bytes. */
    static long readU64(RandomAccessFile f) throws IOException {
        byte[] b = new byte[8];
        f.readFully(b);
        return ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
    }

    /**
     * Dirty page-cache pages of the image in a range, as the kernel's own page flags say
     * (/proc/self/pagemap for the frame, /proc/kpageflags bit KPF_DIRTY); needs root.
     */
    long dirtyPages(long offset, int pages) throws IOException {
        int fd = io.open(image.toString(), Posix.O_RDONLY, 0);
        try (MemoryMapping m = io.mapShared(fd, offset, pages * 4096L, false);
             RandomAccessFile pagemap = new RandomAccessFile("/proc/self/pagemap", "r");
             RandomAccessFile kpageflags = new RandomAccessFile("/proc/kpageflags", "r")) {
            ByteBuffer b = m.buffer();
            long dirty = 0;
            for (int p = 0; p < pages; p++) {
                b.get(p * 4096); // fault the page in, so pagemap knows its frame
                pagemap.seek((m.address() / 4096 + p) * 8);
                long entry = readU64(pagemap);
                long pfn = entry & ((1L << 55) - 1);
                assertThat(pfn).as("page frame numbers are readable (run as root)").isPositive();
                kpageflags.seek(pfn * 8);
                long flags = readU64(kpageflags);
                dirty += (flags >>> 4) & 1; // KPF_DIRTY
            }
            return dirty;
        } finally {
            io.close(fd);
        }
    }
}
