package io.backplane.ring;

import io.backplane.ring.layout.BlkifDiscardRequestDescriptor;
import io.backplane.ring.layout.BlkifIndirectRequestDescriptor;
import io.backplane.ring.layout.BlkifRequestDescriptor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A local copy of a blkif request slot (112 bytes, x86_64 ABI). The whole slot is copied once,
 * then read as {@code blkif_request}, {@code blkif_request_discard} or
 * {@code blkif_request_indirect} according to {@link #operation()}: what the backend validates
 * is exactly what it acts on.
 */
public final class BlkifRequest implements RingEntry {

    private final ByteBuffer copy = ByteBuffer.allocate(BlkifRequestDescriptor.LENGTH).order(ByteOrder.LITTLE_ENDIAN);

    @Override
    public void readFrom(ByteBuffer shared, int slot) {
        copy.put(0, shared, slot, BlkifRequestDescriptor.LENGTH);
    }

    @Override
    public void writeTo(ByteBuffer shared, int slot) {
        shared.put(slot, copy, 0, BlkifRequestDescriptor.LENGTH);
    }

    /** Zeroes the copy, to build a new request. */
    public BlkifRequest clear() {
        for (int i = 0; i < BlkifRequestDescriptor.LENGTH; i += 8) {
            copy.putLong(i, 0L);
        }
        return this;
    }

    /** BLKIF_OP_*. */
    public int operation() {
        return Byte.toUnsignedInt(copy.get(BlkifRequestDescriptor.OPERATION_OFFSET));
    }

    public BlkifRequest operation(int op) {
        copy.put(BlkifRequestDescriptor.OPERATION_OFFSET, (byte) op);
        return this;
    }

    /** nr_segments of a direct request (u8). */
    public int nrSegments() {
        return Byte.toUnsignedInt(copy.get(BlkifRequestDescriptor.NR_SEGMENTS_OFFSET));
    }

    public BlkifRequest nrSegments(int n) {
        copy.put(BlkifRequestDescriptor.NR_SEGMENTS_OFFSET, (byte) n);
        return this;
    }

    /** handle (blkif_vdev_t) of a direct or discard request. */
    public int handle() {
        return Short.toUnsignedInt(copy.getShort(BlkifRequestDescriptor.HANDLE_OFFSET));
    }

    public BlkifRequest handle(int handle) {
        copy.putShort(BlkifRequestDescriptor.HANDLE_OFFSET, (short) handle);
        return this;
    }

    /** id, at the same offset in every request form. */
    public long id() {
        return copy.getLong(BlkifRequestDescriptor.ID_OFFSET);
    }

    public BlkifRequest id(long id) {
        copy.putLong(BlkifRequestDescriptor.ID_OFFSET, id);
        return this;
    }

    /** sector_number, at the same offset in every request form. */
    public long sectorNumber() {
        return copy.getLong(BlkifRequestDescriptor.SECTOR_NUMBER_OFFSET);
    }

    public BlkifRequest sectorNumber(long sector) {
        copy.putLong(BlkifRequestDescriptor.SECTOR_NUMBER_OFFSET, sector);
        return this;
    }

    /** seg[i].gref of a direct request. */
    public int segmentGref(int i) {
        return copy.getInt(BlkifRequestDescriptor.segmentOffset(i) + BlkifRequestDescriptor.SEGMENT_GREF_OFFSET);
    }

    /** seg[i].first_sect of a direct request. */
    public int segmentFirstSect(int i) {
        return Byte.toUnsignedInt(copy.get(BlkifRequestDescriptor.segmentOffset(i) + BlkifRequestDescriptor.SEGMENT_FIRST_SECT_OFFSET));
    }

    /** seg[i].last_sect of a direct request. */
    public int segmentLastSect(int i) {
        return Byte.toUnsignedInt(copy.get(BlkifRequestDescriptor.segmentOffset(i) + BlkifRequestDescriptor.SEGMENT_LAST_SECT_OFFSET));
    }

    public BlkifRequest segment(int i, int gref, int firstSect, int lastSect) {
        int at = BlkifRequestDescriptor.segmentOffset(i);
        copy.putInt(at + BlkifRequestDescriptor.SEGMENT_GREF_OFFSET, gref);
        copy.put(at + BlkifRequestDescriptor.SEGMENT_FIRST_SECT_OFFSET, (byte) firstSect);
        copy.put(at + BlkifRequestDescriptor.SEGMENT_LAST_SECT_OFFSET, (byte) lastSect);
        return this;
    }

    /** flag of a discard request (BLKIF_DISCARD_SECURE). */
    public int discardFlag() {
        return Byte.toUnsignedInt(copy.get(BlkifDiscardRequestDescriptor.FLAG_OFFSET));
    }

    /** nr_sectors of a discard request. */
    public long discardNrSectors() {
        return copy.getLong(BlkifDiscardRequestDescriptor.NR_SECTORS_OFFSET);
    }

    public BlkifRequest discard(int flag, long nrSectors) {
        copy.put(BlkifDiscardRequestDescriptor.FLAG_OFFSET, (byte) flag);
        copy.putLong(BlkifDiscardRequestDescriptor.NR_SECTORS_OFFSET, nrSectors);
        return this;
    }

    /** indirect_op of an indirect request. */
    public int indirectOp() {
        return Byte.toUnsignedInt(copy.get(BlkifIndirectRequestDescriptor.INDIRECT_OP_OFFSET));
    }

    /** nr_segments of an indirect request (u16). */
    public int indirectNrSegments() {
        return Short.toUnsignedInt(copy.getShort(BlkifIndirectRequestDescriptor.NR_SEGMENTS_OFFSET));
    }

    /** handle of an indirect request. */
    public int indirectHandle() {
        return Short.toUnsignedInt(copy.getShort(BlkifIndirectRequestDescriptor.HANDLE_OFFSET));
    }

    /** indirect_grefs[i]. */
    public int indirectGref(int i) {
        return copy.getInt(BlkifIndirectRequestDescriptor.indirectGrefOffset(i));
    }

    /** Makes this an indirect request of {@code nrSegments} segments for operation {@code indirectOp}. */
    public BlkifRequest indirect(int indirectOp, int nrSegments, int handle) {
        copy.put(BlkifIndirectRequestDescriptor.INDIRECT_OP_OFFSET, (byte) indirectOp);
        copy.putShort(BlkifIndirectRequestDescriptor.NR_SEGMENTS_OFFSET, (short) nrSegments);
        copy.putShort(BlkifIndirectRequestDescriptor.HANDLE_OFFSET, (short) handle);
        return this;
    }

    public BlkifRequest indirectGref(int i, int gref) {
        copy.putInt(BlkifIndirectRequestDescriptor.indirectGrefOffset(i), gref);
        return this;
    }

    @Override
    public String toString() {
        return "blkif_request{operation=" + operation() + ", id=" + id() + ", sector_number=" + sectorNumber() + "}";
    }
}
