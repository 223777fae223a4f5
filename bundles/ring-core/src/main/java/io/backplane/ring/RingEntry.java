package io.backplane.ring;

import java.nio.ByteBuffer;

/**
 * A caller-owned, reusable copy of one ring slot. {@link #readFrom} copies every field out of
 * shared memory once, so all later checks see values the other end can no longer change (the
 * XSA-155 double-fetch rule); {@link #writeTo} fills a slot. Implementations allocate nothing.
 */
public interface RingEntry {

    /** Copy this entry's fields from the slot at {@code offset} of {@code shared} (little-endian). */
    void readFrom(ByteBuffer shared, int offset);

    /** Write this entry's fields to the slot at {@code offset} of {@code shared} (little-endian). */
    void writeTo(ByteBuffer shared, int offset);
}
