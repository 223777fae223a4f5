package io.backplane.nativeio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeIoTest {
    static NativeIo io;

    @BeforeAll
    static void load() {
        io = new NativeIo();
    }

    @AfterAll
    static void drop() {
        io = null;
    }

    @Test
    void preadPwriteRoundTripOnAMemfd() {
        int fd = io.memfdCreate("nativeio-test");
        try {
            io.ftruncate(fd, 8192);
            ByteBuffer out = ByteBuffer.allocateDirect(16);
            out.putLong(0, 0x1122334455667788L).putLong(8, -1L);
            assertThat(io.pwrite(fd, out, 4090)).isEqualTo(16);
            assertThat(out.remaining()).isZero();
            ByteBuffer in = ByteBuffer.allocateDirect(16);
            assertThat(io.pread(fd, in, 4090)).isEqualTo(16);
            assertThat(in.getLong(0)).isEqualTo(0x1122334455667788L);
            assertThat(in.getLong(8)).isEqualTo(-1L);
        } finally {
            io.close(fd);
        }
    }

    /**
     * Six one-page mappings of a file in two runs that lie end to end (a one-page hole between
     * them), handed over in shuffled order and one of them twice: closeAll unmaps them with one
     * munmap per run, and nothing of the file stays mapped.
     */
    @Test
    void closeAllUnmapsEachRunOfAdjacentMappingsWithOneCall(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("memory");
        int fd = io.open(file.toString(), Posix.O_RDWR | Posix.O_CREAT, 0600);
        try {
            io.ftruncate(fd, 8 * 4096);
            long base = io.mmap(0, 7 * 4096, Posix.PROT_NONE, Posix.MAP_PRIVATE | Posix.MAP_ANONYMOUS, -1, 0);
            java.util.List<MemoryMapping> maps = new java.util.ArrayList<>();
            for (int page = 0; page < 7; page++) {
                long at = base + page * 4096L;
                if (page == 3) {
                    io.munmap(at, 4096);           // the hole between the two runs
                    continue;
                }
                io.mmap(at, 4096, Posix.PROT_READ | Posix.PROT_WRITE, Posix.MAP_SHARED | Posix.MAP_FIXED, fd, page * 4096L);
                maps.add(new MemoryMapping(io, at, 4096, true));
            }
            maps.get(4).buffer().putInt(0, 0xBEEF);   // file page 5
            java.util.Collections.shuffle(maps, new java.util.Random(7));
            maps.add(maps.get(0));
            assertThat(maps().lines().filter(l -> l.endsWith(file.toString()))).isNotEmpty();

            assertThat(MemoryMapping.closeAll(maps)).as("one munmap per run").isEqualTo(2);
            assertThat(maps).allMatch(MemoryMapping::isClosed);
            assertThat(maps().lines().filter(l -> l.endsWith(file.toString()))).isEmpty();
            assertThat(MemoryMapping.closeAll(maps)).as("closed ones are skipped").isZero();
            ByteBuffer in = ByteBuffer.allocateDirect(4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            io.pread(fd, in, 5 * 4096L);
            assertThat(in.getInt(0)).isEqualTo(0xBEEF);
        } finally {
            io.close(fd);
        }
    }

    @Test
    void mapPagesLaysScatteredPagesOutContiguouslyAndUnmapsForReal(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("memory");
        int fd = io.open(file.toString(), Posix.O_RDWR | Posix.O_CREAT, 0600);
        try {
            io.ftruncate(fd, 8 * 4096);
            ByteBuffer tag = ByteBuffer.allocateDirect(4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (int page = 0; page < 8; page++) {
                tag.clear();
                tag.putInt(0, 1000 + page);
                io.pwrite(fd, tag, page * 4096L);
            }
            long[] pages = {5, 1, 2, 3, 7};
            MemoryMapping m = io.mapPages(fd, pages, true);
            String range = Long.toHexString(m.address());
            ByteBuffer b = m.buffer();
            assertThat(b.capacity()).isEqualTo(5 * 4096);
            for (int i = 0; i < pages.length; i++) {
                assertThat(b.getInt(i * 4096)).isEqualTo(1000 + (int) pages[i]);
            }
            b.putInt(4096 + 8, 0xCAFE);            // page 1 of the file, through the mapping
            ByteBuffer in = ByteBuffer.allocateDirect(4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            io.pread(fd, in, 4096 + 8);
            assertThat(in.getInt(0)).isEqualTo(0xCAFE);
            // Each page is its own mapping of the file; other threads may reuse the address
            // range once it is unmapped, so look for mappings of this file, not for the address.
            assertThat(maps().lines().filter(l -> l.startsWith(range + "-")))
                    .anySatisfy(l -> assertThat(l).endsWith(file.toString()));
            m.close();
            m.close();
            assertThat(maps().lines().filter(l -> l.endsWith(file.toString()))).isEmpty();
        } finally {
            io.close(fd);
        }
    }

    @Test
    void readOnlyMappingGivesReadOnlyBuffer() {
        int fd = io.memfdCreate("ro");
        try {
            io.ftruncate(fd, 4096);
            try (MemoryMapping m = io.mapShared(fd, 0, 4096, false)) {
                assertThat(m.buffer().isReadOnly()).isTrue();
            }
        } finally {
            io.close(fd);
        }
    }

    @Test
    void failuresNameTheCallAndErrno() {
        assertThatThrownBy(() -> io.open("/nonexistent/dir/file", Posix.O_RDONLY, 0))
                .isInstanceOf(NativeException.class)
                .hasMessageContaining("open /nonexistent/dir/file failed")
                .hasMessageContaining("ENOENT")
                .satisfies(e -> assertThat(((NativeException) e).errno()).isEqualTo(Errno.ENOENT));
        assertThatThrownBy(() -> io.pread(1, ByteBuffer.allocate(4), 0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    static String maps() throws IOException {
        return Files.readString(Path.of("/proc/self/maps"));
    }

    @Test
    void punchingAHoleReadsBackAsZerosAndFreesBlocks(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("image");
        int fd = io.open(file.toString(), Posix.O_RDWR | Posix.O_CREAT, 0600);
        try {
            ByteBuffer ones = ByteBuffer.allocateDirect(64 * 1024);
            for (int i = 0; i < ones.capacity(); i++) {
                ones.put(i, (byte) 0x5A);
            }
            io.pwrite(fd, ones, 0);
            io.fsync(fd);
            long blocksBefore = blocks(file);
            io.fallocate(fd, Posix.FALLOC_FL_PUNCH_HOLE | Posix.FALLOC_FL_KEEP_SIZE, 8192, 32768);
            io.fdatasync(fd);
            assertThat(Files.size(file)).isEqualTo(64 * 1024);
            byte[] back = Files.readAllBytes(file);
            for (int i = 0; i < back.length; i++) {
                assertThat(back[i]).as("byte %d", i).isEqualTo(i >= 8192 && i < 8192 + 32768 ? (byte) 0 : (byte) 0x5A);
            }
            assertThat(blocks(file)).isLessThan(blocksBefore);
        } finally {
            io.close(fd);
        }
    }

    @Test
    void fallocateOnABadFdNamesTheCall() {
        assertThatThrownBy(() -> io.fallocate(-1, Posix.FALLOC_FL_PUNCH_HOLE | Posix.FALLOC_FL_KEEP_SIZE, 0, 4096))
                .isInstanceOf(NativeException.class).hasMessageContaining("fallocate").hasMessageContaining("EBADF");
    }

    private static long blocks(Path file) throws IOException {
        Process p = new ProcessBuilder("stat", "-c", "%b", file.toString()).start();
        try {
            p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return Long.parseLong(new String(p.getInputStream().readAllBytes()).trim());
    }
}
