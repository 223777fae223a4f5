package io.backplane.api.ring;

import java.nio.file.Path;

/**
 * A ring mapped ahead of serving it ({@link RingStrategy#prepare}): its pages, and the grants its
 * data path will keep mapped across requests as another process's grant record named them,
 * held until {@link RingStrategy#open(RingRequest, PreparedRing)} takes them over or
 * {@link #close} releases them. Thread-safe; closing is idempotent and never throws.
 */
public interface PreparedRing extends AutoCloseable {

    /** The ring pages held mapped. */
    int ringPages();

    /** The data path's grants held mapped. */
    int grants();

    /**
     * Brings the grants held up to date with the grant record at {@code record} (read again once
     * the last owner stopped): maps those it names that are not held, in one call, and lets go of
     * those held it no longer names. A missing or unreadable record lets go of every grant: the
     * requests map theirs as they come.
     */
    Refresh refresh(Path record);

    /**
     * What {@link #refresh} did.
     *
     * @param found  grants the record names that were held already
     * @param mapped grants mapped now
     * @param calls  map calls that took
     * @param dropped grants let go of (the record no longer names them)
     */
    record Refresh(int found, int mapped, int calls, int dropped) {
    }

    @Override
    void close();
}
