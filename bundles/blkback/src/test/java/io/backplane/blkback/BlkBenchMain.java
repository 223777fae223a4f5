package io.backplane.blkback;

import io.backplane.nativeio.NativeIo;
import io.backplane.nativeio.Posix;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * By hand until {@code ./backplane bench blk} exists: requests per second through a guest
 * process's blkfront, blkback and grant copy, against the same reads and writes done directly on
 * the image file in one thread (the baseline), run side by side. Prints one line per case.
 *
 * <pre>
 * mvn -B -q -pl bundles/blkback -am test-compile dependency:build-classpath \
 *     -Dmdep.outputFile=target/test-classpath.txt -Dmdep.includeScope=test
 * java -cp "bundles/blkback/target/test-classes:bundles/blkback/target/classes:$(cat bundles/blkback/target/test-classpath.txt)" \
 *     io.backplane.blkback.BlkBenchMain [ops]
 * </pre>
 */
public final class BlkBenchMain {
    private static final int DEVID = 51712;
    private static final long IMAGE_SECTORS = 1L << 17; // 64 MiB

    private BlkBenchMain() {
    }

    public static void main(String[] args) throws Exception {
        int ops = args.length > 0 ? Integer.parseInt(args[0]) : 40_000;
        NativeIo io = new NativeIo();
        System.out.println("case                          ring req/s   direct req/s   ring/direct");
        for (int sectors : new int[] {8, 128}) {
            for (int[] orderQueues : new int[][] {{0, 1}, {2, 1}, {2, 2}}) {
                for (int depth : new int[] {1, 32}) {
                    double ring = viaRing(io, ops, sectors, orderQueues[0], orderQueues[1], depth);
                    double direct = direct(io, ops, sectors);
                    System.out.printf("%4d KiB order %d q%d depth %2d  %12.0f   %12.0f   %8.2f%n", sectors / 2,
                            orderQueues[0], orderQueues[1], depth, ring, direct, ring / direct);
                }
            }
        }
    }

    private static double viaRing(NativeIo io, int ops, int sectors, int order, int queues, int depth) throws Exception {
        Path dir = Files.createTempDirectory("blkbench");
        try (SimWorld world = new SimWorld(dir, io)) {
            Path image = dir.resolve("disk.img");
            try (var f = new java.io.RandomAccessFile(image.toFile(), "rw")) {
                f.setLength(IMAGE_SECTORS * 512);
            }
            int domid = world.createDomain("bench", 16384);
            try (VbdHarness vbd = world.attachVbd(domid, DEVID, java.util.Map.of("params", image.toString(), "mode", "w"),
                    BlkEndToEndTest.offer(order, queues));
                 GuestProcess guest = new GuestProcess(dir, domid, "ring-order=" + order + ",queues=" + queues
                         + ",ops=" + ops + ",depth=" + depth + ",min-sectors=" + sectors + ",max-sectors=" + sectors
                         + ",read=50,write=50,flush=0,discard=0,fill=0,verify=0,region=" + IMAGE_SECTORS)) {
                String fe = "/local/domain/" + domid + "/device/vbd/" + DEVID + "/stats/";
                while (!"done".equals(world.xs.tryRead(fe + "phase").orElse(""))) {
                    if (!guest.alive()) {
                        throw new IllegalStateException("guest died: " + guest.output());
                    }
                    Thread.sleep(20);
                }
                long millis = Long.parseLong(world.xs.read(fe + "elapsed-ms"));
                if (!"0".equals(world.xs.read(fe + "failed"))) {
                    throw new IllegalStateException("failed requests: " + guest.output());
                }
                return ops * 1000.0 / Math.max(1, millis);
            }
        } finally {
            try (var walk = Files.walk(dir)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** The same random half reads, half writes with pread/pwrite on the image, one at a time. */
    private static double direct(NativeIo io, int ops, int sectors) throws Exception {
        Path file = Files.createTempFile("blkbench", ".img");
        int fd = io.open(file.toString(), Posix.O_RDWR, 0);
        try {
            io.ftruncate(fd, IMAGE_SECTORS * 512);
            ByteBuffer buf = ByteBuffer.allocateDirect(sectors * 512);
            SplittableRandom random = new SplittableRandom(1);
            long start = System.nanoTime();
            for (int i = 0; i < ops; i++) {
                long at = random.nextLong(IMAGE_SECTORS - sectors) * 512;
                buf.clear();
                if (random.nextBoolean()) {
                    io.pread(fd, buf, at);
                } else {
                    io.pwrite(fd, buf, at);
                }
            }
            return ops * 1e9 / (System.nanoTime() - start);
        } finally {
            io.close(fd);
            Files.delete(file);
        }
    }
}
