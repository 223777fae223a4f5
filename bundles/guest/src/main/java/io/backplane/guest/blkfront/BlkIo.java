package io.backplane.guest.blkfront;

import java.nio.ByteBuffer;

/**
 * One request of the workload with the guest pages it uses (Linux blkfront's shadow entry): a
 * data slot of consecutive pages granted to the backend once, and an indirect page for the
 * segment list of large requests. Kept until answered, so that a reconnect can re-issue it.
 */
final class BlkIo {
    enum Op { READ, WRITE, FLUSH, DISCARD }

    /** The slot's pages, as one buffer over guest memory (page i = dataRefs[i]). */
    final ByteBuffer data;
    final int[] dataRefs;
    final ByteBuffer indirectPage;
    final int indirectRef;

    Op op;
    long sector;
    int sectors;
    /** The version a write puts on its sectors (SectorPattern). */
    int version;
    /** Issued during the verify pass (counts towards verification, not the random phase). */
    boolean verifyPass;
    /** For a flush with a {@link FlushRecord}: the sector versions it makes durable. */
    int[] flushCovers;
    /** Issued more than once (the backend went away before answering). */
    boolean reissued;

    BlkIo(ByteBuffer data, int[] dataRefs, ByteBuffer indirectPage, int indirectRef) {
        this.data = data;
        this.dataRefs = dataRefs;
        this.indirectPage = indirectPage;
        this.indirectRef = indirectRef;
    }

    /** Pages (segments) a read or write of {@link #sectors} occupies. */
    int segments() {
        return (sectors + 7) / 8;
    }

    @Override
    public String toString() {
        return op + " of " + sectors + " sectors at " + sector;
    }
}
