package io.backplane.hypervisor.sim;

import static io.backplane.ring.layout.GrantEntryV1Descriptor.GTF_PERMIT_ACCESS;
import static io.backplane.ring.layout.GrantEntryV1Descriptor.GTF_READING;
import static io.backplane.ring.layout.GrantEntryV1Descriptor.GTF_READONLY;
import static io.backplane.ring.layout.GrantEntryV1Descriptor.GTF_SUB_PAGE;
import static io.backplane.ring.layout.GrantEntryV1Descriptor.GTF_TYPE_MASK;
import static io.backplane.ring.layout.GrantEntryV1Descriptor.GTF_WRITING;

import io.backplane.api.hypervisor.GrantStatus;
import java.util.HashMap;
import java.util.Map;

/**
 * The hypervisor's side of one domain's grant table: Xen's active grant entries. Pinning a
 * reference (for a map or for the span of a copy) checks the shared entry exactly as Xen's
 * {@code map_grant_ref} and {@code _set_status_v1} do and sets GTF_reading / GTF_writing with
 * compare-and-set; the last unpin clears them ({@code unmap_common_complete}). The frame is
 * captured at the first pin, so a guest rewriting an entry in use changes nothing.
 */
final class ActiveGrants {
    /** Xen retries the cmpxchg on a guest-shared entry this often before calling it unstable. */
    private static final int CMPXCHG_RETRIES = 5;

    private static final class Active {
        final long frame;
        int readPins;
        int writePins;

        Active(long frame) {
            this.frame = frame;
        }
    }

    private final GrantEntries entries;
    private final long memoryPages;
    private final int granteeDomid;
    private final Map<Integer, Active> active = new HashMap<>();

    ActiveGrants(GrantEntries entries, long memoryPages, int granteeDomid) {
        this.entries = entries;
        this.memoryPages = memoryPages;
        this.granteeDomid = granteeDomid;
    }

    /**
     * Pins {@code ref} for reading (and writing unless {@code readonly}); returns its frame.
     * {@code map} is Xen's {@code mapflag}: only a map refuses GTF_sub_page (a copy may use it).
     */
    synchronized long pin(int ref, boolean readonly, boolean map) throws GrantFailure {
        if (ref < 0 || ref >= entries.entries()) {
            throw new GrantFailure(GrantStatus.BAD_GNTREF, "bad ref " + Integer.toUnsignedString(ref)
                    + " (the table has " + entries.entries() + " entries)");
        }
        Active act = active.get(ref);
        if (act == null || (!readonly && act.writePins == 0)) {
            setStatus(ref, act == null, readonly, map);
            if (act == null) {
                long frame = entries.frame(ref);
                if (frame >= memoryPages) {
                    entries.clearFlags(ref, readonly ? GTF_READING : GTF_READING | GTF_WRITING);
                    throw new GrantFailure(GrantStatus.BAD_PAGE, "frame " + frame
                            + " is not the domain's (it has " + memoryPages + " pages)");
                }
                act = new Active(frame);
                active.put(ref, act);
            }
        }
        if (readonly) {
            act.readPins++;
        } else {
            act.writePins++;
        }
        return act.frame;
    }

    /** Drops one pin taken by {@link #pin}; clears GTF_writing / GTF_reading as the last pins go. */
    synchronized void unpin(int ref, boolean readonly) {
        Active act = active.get(ref);
        if (act == null) {
            return;
        }
        int clear = 0;
        if (readonly) {
            act.readPins--;
        } else {
            act.writePins--;
            if (act.writePins == 0) {
                clear |= GTF_WRITING;
            }
        }
        if (act.readPins + act.writePins == 0) {
            clear |= GTF_READING;
            active.remove(ref);
        }
        if (clear != 0) {
            entries.clearFlags(ref, clear);
        }
    }

    /** Runs several {@link #unpin}s as one pass over the table, under one hold of its lock. */
    synchronized void update(Runnable pass) {
        pass.run();
    }

    /** The pinned references as {ref, frame, read pins, write pins} quadruples, for the next sim. */
    synchronized long[] handOver() {
        long[] out = new long[active.size() * 4];
        int i = 0;
        for (Map.Entry<Integer, Active> e : active.entrySet()) {
            out[i++] = e.getKey();
            out[i++] = e.getValue().frame;
            out[i++] = e.getValue().readPins;
            out[i++] = e.getValue().writePins;
        }
        return out;
    }

    /** Takes the pins of {@link #handOver} (the flags they set are in the shared entries already). */
    synchronized void restore(long[] pins) {
        for (int i = 0; i < pins.length; i += 4) {
            Active a = new Active(pins[i + 1]);
            a.readPins = (int) pins[i + 2];
            a.writePins = (int) pins[i + 3];
            active.put((int) pins[i], a);
        }
    }

    /** Number of references currently pinned. */
    synchronized int pinned() {
        return active.size();
    }

    private void setStatus(int ref, boolean firstPin, boolean readonly, boolean map) throws GrantFailure {
        int mask = map ? GTF_TYPE_MASK | GTF_SUB_PAGE : GTF_TYPE_MASK;
        int header = entries.header(ref);
        for (int retries = 0; ; retries++) {
            int flags = GrantEntries.flags(header);
            int domid = GrantEntries.domid(header);
            if (firstPin && ((flags & mask) != GTF_PERMIT_ACCESS || domid != granteeDomid)) {
                throw new GrantFailure(GrantStatus.GENERAL_ERROR, "bad flags (0x" + Integer.toHexString(flags)
                        + ") or dom (" + domid + "); expected d" + granteeDomid);
            }
            int update = header | GTF_READING;
            if (!readonly) {
                if ((flags & GTF_READONLY) != 0) {
                    throw new GrantFailure(GrantStatus.GENERAL_ERROR, "attempt to write-pin a r/o grant entry");
                }
                update |= GTF_WRITING;
            }
            if (entries.compareAndSetHeader(ref, header, update)) {
                return;
            }
            if (retries == CMPXCHG_RETRIES - 1) {
                throw new GrantFailure(GrantStatus.GENERAL_ERROR, "shared grant entry is unstable");
            }
            header = entries.header(ref);
        }
    }
}
