package io.backplane.guest.blkfront;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The bytes blkfront writes: a deterministic function of the sector number and a version, so
 * any reader (the guest reading back, a test reading the image file) can check every byte of a
 * sector without keeping a copy. The first two words stamp the sector and the version, so a
 * reader of an image can also tell which version a sector holds ({@link #versionIn}). Version 0
 * is never written; {@link #ZEROS} stands for a discarded sector.
 */
public final class SectorPattern {
    public static final int SECTOR = 512;
    /** The version of a sector whose content is unknown (never written by this frontend). */
    public static final int UNKNOWN = 0;
    /** The version of a discarded sector: it must read back as zeros. */
    public static final int ZEROS = -1;
    /** What {@link #versionIn} answers for a sector that is neither zeros nor a whole written version. */
    public static final int GARBLED = Integer.MIN_VALUE;

    private SectorPattern() {
    }

    /** Word {@code word} (0..63) of {@code sector} at {@code version}. */
    public static long word(long sector, int version, int word) {
        if (version == ZEROS) {
            return 0L;
        }
        if (word == 0) {
            return sector;
        }
        if (word == 1) {
            return version;
        }
        long z = sector * 0x9E3779B97F4A7C15L + (long) version * 0xC2B2AE3D27D4EB4FL + word * 0x165667B19E3779F9L;
        // splitmix64's finaliser: every input bit reaches every output bit.
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Writes {@code sector}'s 512 bytes at {@code version} into {@code dst} at {@code offset}. */
    public static void fill(ByteBuffer dst, int offset, long sector, int version) {
        ByteBuffer b = dst.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        for (int w = 0; w < SECTOR / 8; w++) {
            b.putLong(offset + w * 8, word(sector, version, w));
        }
    }

    /** True when the 512 bytes at {@code offset} are {@code sector} at {@code version}. */
    public static boolean matches(ByteBuffer src, int offset, long sector, int version) {
        ByteBuffer b = src.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        for (int w = 0; w < SECTOR / 8; w++) {
            if (b.getLong(offset + w * 8) != word(sector, version, w)) {
                return false;
            }
        }
        return true;
    }

    /**
     * The version {@code sector} holds at {@code offset}: {@link #ZEROS} for 512 zero bytes, the
     * stamped version when every byte is that version's, else {@link #GARBLED} (a torn or foreign
     * write, or another sector's data).
     */
    public static int versionIn(ByteBuffer src, int offset, long sector) {
        if (matches(src, offset, sector, ZEROS)) {
            return ZEROS;
        }
        ByteBuffer b = src.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        long stamped = b.getLong(offset + 8);
        if (stamped < 1 || stamped > Integer.MAX_VALUE || !matches(src, offset, sector, (int) stamped)) {
            return GARBLED;
        }
        return (int) stamped;
    }
}
