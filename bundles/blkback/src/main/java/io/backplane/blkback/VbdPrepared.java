package io.backplane.blkback;

import io.backplane.api.backend.PreparedAdoption;
import io.backplane.api.ring.PreparedRing;
import java.util.ArrayList;
import java.util.List;

/**
 * What a standby prepared for adopting a vbd its live owner serves ({@code VbdDevice.prepare}):
 * the frontend's keys as read then (they hold while the record's generation does, which the
 * claim checks) and each queue's ring mapped with the persistent grants the owner recorded (null
 * for a queue whose strategy prepares nothing), and each queue's worker thread, waiting. The
 * adopting {@link VbdDevice} takes the rings and workers over; closing unmaps what was not taken
 * and ends the workers.
 */
final class VbdPrepared implements PreparedAdoption {
    private final FrontendRings frontend;
    private final List<PreparedRing> rings;
    /** Each queue's worker thread, started with the preparation (see {@link BlkifRing.Worker}). */
    private final List<BlkifRing.Worker> workers;
    private boolean gone;

    VbdPrepared(FrontendRings frontend, List<PreparedRing> rings, List<BlkifRing.Worker> workers) {
        this.frontend = frontend;
        this.rings = new ArrayList<>(rings);
        this.workers = List.copyOf(workers);
    }

    FrontendRings frontend() {
        return frontend;
    }

    /** Each queue's worker, the caller's with {@link #take} (to serve a ring or cancel). */
    List<BlkifRing.Worker> workers() {
        return workers;
    }

    /** Each queue's prepared ring (null entries: nothing prepared), now the caller's to close or open. */
    synchronized List<PreparedRing> take() {
        if (gone) {
            throw new IllegalStateException("the prepared adoption was released");
        }
        gone = true;
        return rings;
    }

    @Override
    public synchronized void close() {
        if (!gone) {
            gone = true;
            close(rings);
            workers.forEach(BlkifRing.Worker::cancel);
        }
    }

    static void close(List<PreparedRing> rings) {
        for (PreparedRing r : rings) {
            if (r != null) {
                r.close();
            }
        }
    }
}
