package io.backplane.guest.blkfront;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.log.OperatorLog;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The flush record against a disk with a volatile cache, as a host's page cache is to a crash:
 * writes land in the cache, a flush copies the cache to stable storage, and a crash keeps only
 * stable storage. A backend that flushes honestly loses nothing the record names; one whose
 * flush misses a write is caught.
 */
class FlushRecordTest {
    private static final int DISK = 2048;

    @TempDir
    Path dir;

    /** Runs until {@code crashAfter} answers, then returns the check of the stable image. */
    private FlushRecord.Check crash(String spec, int crashAfter, int sectorTheFlushMisses) throws IOException {
        FlushRecord record = new FlushRecord(dir.resolve("vbd-51712.flushed"));
        BlkStats stats = new BlkStats();
        List<String> log = new ArrayList<>();
        Workload w = new Workload(BlkfrontOptions.parse(spec), DISK, 88, true, true, stats, OperatorLog.lines(log::add), record);
        byte[] cache = new byte[DISK * 512];
        byte[] stable = new byte[DISK * 512];
        List<BlkIo> idle = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            idle.add(new BlkIo(ByteBuffer.allocateDirect(11 * 4096), new int[11], ByteBuffer.allocateDirect(4096), 0));
        }
        List<BlkIo> flying = new ArrayList<>();
        Random order = new Random(11);
        for (int answered = 0; answered < crashAfter && !w.finished(); answered++) {
            while (!idle.isEmpty() && w.next(idle.get(0))) {
                flying.add(idle.remove(0));
            }
            BlkIo io = flying.remove(order.nextInt(flying.size()));
            int at = (int) io.sector * 512;
            switch (io.op) {
                case WRITE -> io.data.get(0, cache, at, io.sectors * 512);
                case READ -> io.data.put(0, cache, at, io.sectors * 512);
                case DISCARD -> java.util.Arrays.fill(cache, at, at + io.sectors * 512, (byte) 0);
                case FLUSH -> {
                    byte[] kept = sectorTheFlushMisses < 0 ? null : stable.clone();
                    System.arraycopy(cache, 0, stable, 0, cache.length);
                    if (kept != null) {
                        System.arraycopy(kept, sectorTheFlushMisses * 512, stable, sectorTheFlushMisses * 512, 512);
                    }
                }
            }
            w.complete(io, true);
            idle.add(io);
        }
        // A write still in flight at the crash may have reached stable storage in part.
        for (BlkIo io : flying) {
            if (io.op == BlkIo.Op.WRITE) {
                io.data.get(0, stable, (int) io.sector * 512, 512); // its first sector landed
                break;
            }
        }
        Path image = dir.resolve("disk.img");
        Files.write(image, stable);
        return FlushRecord.check(record.file(), image);
    }

    @Test
    void anHonestFlushLosesNothingTheRecordNames() throws IOException {
        FlushRecord.Check c = crash("ops=100000,region=2048,max-sectors=88,discard=0,seed=3", 3000, -1);
        assertThat(c.flushes()).isGreaterThan(50);
        assertThat(c.durableSectors()).isEqualTo(DISK);
        assertThat(c.lost()).isEmpty();
    }

    @Test
    void withDiscardsASectorMayReadAsZerosLater() throws IOException {
        FlushRecord.Check c = crash("ops=100000,region=2048,max-sectors=88,seed=5", 3000, -1);
        assertThat(c.lost()).isEmpty();
        assertThat(c.flushes()).isGreaterThan(50);
    }

    @Test
    void aFlushThatMissesAWriteIsCaught() throws IOException {
        FlushRecord.Check c = crash("ops=100000,region=2048,max-sectors=88,discard=0,seed=3", 3000, 777);
        assertThat(c.lost()).singleElement().asString().startsWith("sector 777: version ");
    }

    @Test
    void theStampsNameTheVersionAndATornSectorIsGarbled() {
        ByteBuffer b = ByteBuffer.allocate(1024);
        SectorPattern.fill(b, 0, 42, 7);
        assertThat(SectorPattern.versionIn(b, 0, 42)).isEqualTo(7);
        assertThat(SectorPattern.versionIn(b, 0, 43)).isEqualTo(SectorPattern.GARBLED);
        assertThat(SectorPattern.versionIn(b, 512, 43)).isEqualTo(SectorPattern.ZEROS);
        b.put(300, (byte) (b.get(300) ^ 1));
        assertThat(SectorPattern.versionIn(b, 0, 42)).isEqualTo(SectorPattern.GARBLED);
    }
}
