package io.backplane.guest.blkfront;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.backplane.api.log.OperatorLog;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The workload against an in-memory disk: it never overlaps requests in flight and catches corruption. */
class WorkloadTest {
    static final int DISK = 2048;

    /** Runs the workload with {@code depth} requests in flight, answered in random order. */
    static BlkStats run(String spec, int depth, int corruptSector) {
        BlkfrontOptions opt = BlkfrontOptions.parse(spec);
        BlkStats stats = new BlkStats();
        List<String> log = new ArrayList<>();
        Workload w = new Workload(opt, DISK, 88, true, true, stats, OperatorLog.lines(log::add), null);
        byte[] disk = new byte[DISK * 512];
        new Random(3).nextBytes(disk);
        List<BlkIo> idle = new ArrayList<>();
        for (int i = 0; i < depth; i++) {
            idle.add(new BlkIo(ByteBuffer.allocateDirect(11 * 4096), new int[11], ByteBuffer.allocateDirect(4096), 0));
        }
        List<BlkIo> flying = new ArrayList<>();
        Random order = new Random(5);
        boolean corrupted = false;
        while (!w.finished()) {
            while (!idle.isEmpty() && w.next(idle.get(0))) {
                BlkIo io = idle.remove(0);
                BitSet mine = new BitSet();
                mine.set((int) io.sector, (int) (io.sector + io.sectors));
                for (BlkIo other : flying) {
                    BitSet theirs = new BitSet();
                    theirs.set((int) other.sector, (int) (other.sector + other.sectors));
                    assertThat(mine.intersects(theirs)).as(io + " overlaps " + other).isFalse();
                }
                flying.add(io);
            }
            assertThat(flying).as("nothing in flight and nothing to issue").isNotEmpty();
            BlkIo io = flying.remove(order.nextInt(flying.size()));
            int bytes = io.sectors * 512;
            int at = (int) io.sector * 512;
            switch (io.op) {
                case WRITE -> io.data.get(0, disk, at, bytes);
                case DISCARD -> java.util.Arrays.fill(disk, at, at + bytes, (byte) 0);
                case READ -> {
                    if (!corrupted && corruptSector >= io.sector && corruptSector < io.sector + io.sectors
                            && w.phase() == Workload.Phase.VERIFY) {
                        disk[corruptSector * 512 + 100] ^= 1;
                        corrupted = true;
                    }
                    io.data.put(0, disk, at, bytes);
                }
                case FLUSH -> {
                }
            }
            w.complete(io, true);
            idle.add(io);
        }
        return stats;
    }

    @Test
    void everySectorIsCheckedAndNothingOverlaps() {
        BlkStats s = run("ops=3000,region=2048,min-sectors=1,max-sectors=88,seed=9", 24, -1);
        assertThat(s.mismatches).isZero();
        assertThat(s.verifiedSectors).isGreaterThanOrEqualTo(2048);
    }

    @Test
    void aFlippedBitIsAMismatch() {
        BlkStats s = run("ops=500,region=2048,seed=4", 8, 1234);
        assertThat(s.mismatches).isEqualTo(1);
    }

    @Test
    void badOptionsAreRefusedWithTheKeyNamed() {
        assertThatThrownBy(() -> BlkfrontOptions.parse("depth=x")).hasMessageContaining("depth");
        assertThatThrownBy(() -> BlkfrontOptions.parse("colour=red")).hasMessageContaining("colour");
        assertThatThrownBy(() -> BlkfrontOptions.parse("ring-order=5")).hasMessageContaining("ring-order");
    }
}
