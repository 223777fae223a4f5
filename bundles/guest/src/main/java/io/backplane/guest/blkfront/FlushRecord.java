package io.backplane.guest.blkfront;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * What blkfront knows is durable, kept outside the backend's reach: after each completed flush
 * the version of every sector whose write was acknowledged before that flush was issued (a
 * flush makes exactly those durable). Written to a file the guest owns (write, fsync, rename,
 * fsync the directory), so it survives whatever happens to dom0; {@link #check} then proves the
 * image holds every such write, after a crash of the runtime for one.
 *
 * <p>File layout, little-endian: the magic {@code BPFLUSH1}, u64 completed flushes, u32 flags
 * (bit 0: the workload discards, so a sector may read as zeros after a later discard), u32
 * sectors N, then N i32 versions: 0 unknown (never written or a write that failed), -1 discarded
 * (reads as zeros), else the {@link SectorPattern} version.
 */
public final class FlushRecord {
    private static final long MAGIC = 0x31485355_4C465042L; // "BPFLUSH1" read as a little-endian u64
    private static final int HEADER = 8 + 8 + 4 + 4;
    private static final int DISCARDS = 1;

    private final Path file;
    private final Path tmp;
    private long flushes;

    public FlushRecord(Path file) {
        this.file = file.toAbsolutePath();
        this.tmp = this.file.resolveSibling(this.file.getFileName() + ".tmp");
    }

    public Path file() {
        return file;
    }

    /**
     * One more flush completed, making {@code versions} durable; on stable storage when this
     * returns. {@code discards}: the workload issues discards.
     */
    void flushed(int[] versions, boolean discards) throws IOException {
        flushes++;
        ByteBuffer b = ByteBuffer.allocate(HEADER + versions.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(MAGIC).putLong(flushes).putInt(discards ? DISCARDS : 0).putInt(versions.length);
        for (int v : versions) {
            b.putInt(v);
        }
        b.flip();
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
            dir.force(true); // the rename itself
        }
    }

    /** The completed flushes {@code record} counts (0 before the first). */
    public static long flushes(Path record) throws IOException {
        if (!Files.exists(record)) {
            return 0;
        }
        ByteBuffer r = ByteBuffer.wrap(Files.readAllBytes(record)).order(ByteOrder.LITTLE_ENDIAN);
        if (r.remaining() < HEADER || r.getLong() != MAGIC) {
            throw new IOException(record + " is not a blkfront flush record");
        }
        return r.getLong();
    }

    /**
     * What {@link #check} found: the flushes recorded, the sectors they made durable, how many of
     * those read as zeros after a later discard (only when the workload discards), and every
     * sector whose flushed write is not in the image.
     */
    public record Check(long flushes, int durableSectors, int discardedLater, List<String> lost) {
    }

    /**
     * Checks {@code image} against the record: every sector recorded durable holds its version or
     * a later one (a write issued after the flush may have landed, whole), or zeros when a later
     * discard may have landed.
     */
    public static Check check(Path record, Path image) throws IOException {
        ByteBuffer r = ByteBuffer.wrap(Files.readAllBytes(record)).order(ByteOrder.LITTLE_ENDIAN);
        if (r.remaining() < HEADER || r.getLong() != MAGIC) {
            throw new IOException(record + " is not a blkfront flush record");
        }
        long flushes = r.getLong();
        boolean discards = (r.getInt() & DISCARDS) != 0;
        int sectors = r.getInt();
        if (r.remaining() != sectors * 4L) {
            throw new IOException(record + " is truncated: " + sectors + " sectors announced, " + r.remaining() / 4 + " present");
        }
        int durable = 0;
        int discardedLater = 0;
        List<String> lost = new ArrayList<>();
        ByteBuffer disk = ByteBuffer.allocate(SectorPattern.SECTOR);
        try (FileChannel img = FileChannel.open(image, StandardOpenOption.READ)) {
            for (int s = 0; s < sectors; s++) {
                int want = r.getInt();
                if (want == SectorPattern.UNKNOWN) {
                    continue;
                }
                durable++;
                disk.clear();
                while (disk.hasRemaining() && img.read(disk, (long) s * SectorPattern.SECTOR + disk.position()) > 0) {
                    // read the whole sector
                }
                int has = disk.hasRemaining() ? SectorPattern.GARBLED : SectorPattern.versionIn(disk, 0, s);
                if (want == SectorPattern.ZEROS) {
                    if (has == SectorPattern.GARBLED) {
                        lost.add("sector " + s + ": discarded, holds neither zeros nor a whole later write");
                    }
                } else if (has == SectorPattern.ZEROS && discards) {
                    discardedLater++;
                } else if (has == SectorPattern.GARBLED || has < want) {
                    lost.add("sector " + s + ": version " + want + " was flushed, the image holds "
                            + (has == SectorPattern.GARBLED ? "something else" : has == SectorPattern.ZEROS ? "zeros" : "version " + has));
                }
            }
        }
        return new Check(flushes, durable, discardedLater, lost);
    }
}
