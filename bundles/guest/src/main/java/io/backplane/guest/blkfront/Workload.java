package io.backplane.guest.blkfront;

import io.backplane.api.log.OperatorLog;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.BitSet;
import java.util.SplittableRandom;

/**
 * The requests a blkfront issues and how it checks their answers: a sequential fill of the
 * region (version 1) and a flush, a random phase of reads, writes, flushes and discards, and a
 * verify pass over the whole region. It remembers the version of every sector it wrote (or that
 * it discarded) and checks every sector it reads against it. No two requests in flight touch the
 * same sector, so what is on the disk is always known. With a {@link FlushRecord}, each completed
 * flush records the versions it made durable.
 */
final class Workload {
    enum Phase { FILL, FILL_FLUSH, RANDOM, VERIFY, DONE }

    private final BlkfrontOptions opt;
    private final long region;
    private final int maxSectors;
    private final boolean flushOffered;
    private final boolean discardOffered;
    private final int[] version;
    private final BitSet busy;
    private final SplittableRandom random;
    private final BlkStats stats;
    private final OperatorLog log;
    /** Where completed flushes are recorded; null: nowhere. */
    private final FlushRecord flushRecord;
    private Phase phase;
    private long cursor;
    private long randomLeft;
    private int nextVersion = 2;
    private int inFlight;
    private boolean fillFlushSent;

    Workload(BlkfrontOptions opt, long diskSectors, int maxSectors, boolean flushOffered, boolean discardOffered,
             BlkStats stats, OperatorLog log, FlushRecord flushRecord) {
        this.opt = opt;
        this.region = Math.min(opt.region(), diskSectors);
        this.maxSectors = Math.max(1, Math.min(opt.maxSectors(), maxSectors));
        this.flushOffered = flushOffered;
        this.discardOffered = discardOffered;
        this.version = new int[(int) region];
        this.busy = new BitSet((int) region);
        this.random = new SplittableRandom(opt.seed());
        this.stats = stats;
        this.log = log;
        this.flushRecord = flushRecord;
        this.randomLeft = opt.ops();
        this.phase = opt.fill() ? Phase.FILL : Phase.RANDOM;
        advance();
    }

    Phase phase() {
        return phase;
    }

    /** Ends the random phase now (the verify pass, if asked, follows): how an endless workload stops. */
    void stop() {
        randomLeft = 0;
    }

    long region() {
        return region;
    }

    /** Fills {@code io} with the next request; false when none can be issued now. */
    boolean next(BlkIo io) {
        advance();
        io.reissued = false;
        io.verifyPass = false;
        switch (phase) {
            case FILL -> {
                int n = (int) Math.min(maxSectors, region - cursor);
                set(io, BlkIo.Op.WRITE, cursor, n, 1);
                cursor += n;
            }
            case FILL_FLUSH -> {
                if (fillFlushSent || inFlight > 0) {
                    return false;
                }
                fillFlushSent = true;
                set(io, BlkIo.Op.FLUSH, 0, 0, 0);
            }
            case RANDOM -> {
                if (!randomRequest(io)) {
                    return false;
                }
                if (randomLeft > 0) {
                    randomLeft--;
                }
            }
            case VERIFY -> {
                if (cursor >= region) {
                    return false;
                }
                int n = (int) Math.min(maxSectors, region - cursor);
                if (busy.nextSetBit((int) cursor) >= 0 && busy.nextSetBit((int) cursor) < cursor + n) {
                    return false;
                }
                set(io, BlkIo.Op.READ, cursor, n, 0);
                io.verifyPass = true;
                cursor += n;
            }
            case DONE -> {
                return false;
            }
        }
        reserve(io);
        return true;
    }

    private void advance() {
        if (phase == Phase.FILL && cursor >= region) {
            phase = flushOffered ? Phase.FILL_FLUSH : Phase.RANDOM;
        }
        if (phase == Phase.FILL_FLUSH && fillFlushSent && inFlight == 0) {
            phase = Phase.RANDOM;
        }
        if (phase == Phase.RANDOM && randomLeft == 0) {
            phase = opt.verify() ? Phase.VERIFY : Phase.DONE;
            cursor = 0;
        }
        if (phase == Phase.VERIFY && cursor >= region && inFlight == 0) {
            phase = Phase.DONE;
        }
    }

    /** True when everything the workload wanted was issued and answered. */
    boolean finished() {
        advance();
        return phase == Phase.DONE && inFlight == 0;
    }

    private boolean randomRequest(BlkIo io) {
        int rw = opt.read() + opt.write();
        int fl = flushOffered ? opt.flush() : 0;
        int ds = discardOffered ? opt.discard() : 0;
        int total = rw + fl + ds;
        if (total == 0) {
            return false;
        }
        int pick = random.nextInt(total);
        BlkIo.Op op = pick < opt.read() ? BlkIo.Op.READ : pick < rw ? BlkIo.Op.WRITE
                : pick < rw + fl ? BlkIo.Op.FLUSH : BlkIo.Op.DISCARD;
        if (op == BlkIo.Op.FLUSH) {
            set(io, op, 0, 0, 0);
            return true;
        }
        int n = opt.minSectors() + random.nextInt(maxSectors - Math.min(opt.minSectors(), maxSectors) + 1);
        n = (int) Math.min(n, region);
        for (int attempt = 0; attempt < 4; attempt++) {
            long start = random.nextLong(region - n + 1);
            int firstBusy = busy.nextSetBit((int) start);
            if (firstBusy < 0 || firstBusy >= start + n) {
                set(io, op, start, n, op == BlkIo.Op.WRITE ? nextVersion++ : 0);
                return true;
            }
        }
        return false;
    }

    private static void set(BlkIo io, BlkIo.Op op, long sector, int sectors, int version) {
        io.op = op;
        io.sector = sector;
        io.sectors = sectors;
        io.version = version;
    }

    private void reserve(BlkIo io) {
        inFlight++;
        if (io.sectors > 0) {
            busy.set((int) io.sector, (int) (io.sector + io.sectors));
        }
        if (io.op == BlkIo.Op.WRITE) {
            for (int i = 0; i < io.sectors; i++) {
                SectorPattern.fill(io.data, i * SectorPattern.SECTOR, io.sector + i, io.version);
            }
        }
        // A flush makes durable what was acknowledged before it was issued: exactly version[] now.
        io.flushCovers = io.op == BlkIo.Op.FLUSH && flushRecord != null ? version.clone() : null;
    }

    /** An answer arrived: update what is known about the disk and check what was read. */
    void complete(BlkIo io, boolean ok) {
        inFlight--;
        if (io.sectors > 0) {
            busy.clear((int) io.sector, (int) (io.sector + io.sectors));
        }
        switch (io.op) {
            case WRITE -> {
                for (int i = 0; i < io.sectors; i++) {
                    // A failed write may have reached the disk in part: the content is unknown.
                    version[(int) io.sector + i] = ok ? io.version : SectorPattern.UNKNOWN;
                }
            }
            case DISCARD -> {
                for (int i = 0; i < io.sectors; i++) {
                    version[(int) io.sector + i] = ok ? SectorPattern.ZEROS : SectorPattern.UNKNOWN;
                }
            }
            case READ -> {
                if (ok) {
                    check(io);
                }
            }
            case FLUSH -> {
                if (ok && io.flushCovers != null) {
                    try {
                        flushRecord.flushed(io.flushCovers, discardOffered && opt.discard() > 0);
                    } catch (IOException e) {
                        throw new UncheckedIOException("cannot record the flush in " + flushRecord.file(), e);
                    }
                }
            }
        }
    }

    private void check(BlkIo io) {
        for (int i = 0; i < io.sectors; i++) {
            long sector = io.sector + i;
            int v = version[(int) sector];
            if (v == SectorPattern.UNKNOWN) {
                continue;
            }
            if (SectorPattern.matches(io.data, i * SectorPattern.SECTOR, sector, v)) {
                stats.verifiedSectors++;
            } else {
                stats.mismatches++;
                if (stats.mismatches <= 10) {
                    log.info("MISMATCH: sector " + sector + " read back differs from "
                            + (v == SectorPattern.ZEROS ? "zeros (discarded)" : "version " + v));
                }
            }
        }
    }
}
