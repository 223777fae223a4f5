package io.backplane.backend;

import io.backplane.api.backend.PreparedAdoption;
import io.backplane.api.backend.XenbusKeys;
import io.backplane.api.device.DeviceId;
import io.backplane.api.xenstore.XenStore;
import io.backplane.api.backend.XenbusState;

import java.util.List;
import java.util.Optional;

/**
 * Re-attach on start: whether a device directory found at a probe is a live connection another
 * backend left (handed over, crashed, or its bundle was updated) and so must be adopted as it
 * stands, instead of being probed afresh (which would write InitWait under a Connected frontend:
 * Linux's frontends do not survive that). Negotiation never runs for an adopted device: the
 * offer and what connect decided come from its {@link DeviceRecord}.
 */
final class DeviceAdoption {

    /** What to do with a device directory at probe time. */
    enum Verdict {
        /** Not a live connection with a record: the usual probe and handshake. */
        PROBE,
        /** Connected on both ends, recorded, no live owner: re-attach to its rings. */
        ADOPT,
        /** A live process (another instance, or this one's previous bus) still serves it: keep off. */
        LEAVE
    }

    /**
     * @param verdict  what to do
     * @param record   the record to adopt with (ADOPT), or the live owner's (LEAVE)
     * @param why      the reason, in operator words, for the log
     */
    record Decision(Verdict verdict, Optional<DeviceRecord.Recorded> record, String why) {
    }

    /**
     * What a standby learned of a device when it left it to its live owner: enough to claim and
     * adopt it the moment the owner goes, without reading it again ({@link DeviceRecord#claim}
     * checks in the same round trip that it still holds), and what its driver prepared for the
     * adoption meanwhile.
     *
     * @param frontend the frontend directory the backend directory named
     * @param record   the record as it was then
     * @param prepared the driver's {@link PreparedAdoption}, once made
     */
    record Left(String frontend, DeviceRecord.Recorded record, Prepared prepared) {
        Left(String frontend, DeviceRecord.Recorded record) {
            this(frontend, record, new Prepared());
        }

        /** Not to be adopted on this any more: what was prepared is released. */
        void drop() {
            prepared.close();
        }
    }

    /**
     * The slot of a Left's {@link PreparedAdoption}: the driver's preparation may end after the
     * device was claimed or the Left dropped, so whoever comes second closes it. Taken at most once.
     */
    static final class Prepared {
        private PreparedAdoption held;
        private boolean done;

        /** The driver's preparation, kept; closed at once when the slot was taken or closed meanwhile. */
        void offer(PreparedAdoption p) {
            synchronized (this) {
                if (!done) {
                    held = p;
                    return;
                }
            }
            close(p);
        }

        /** What was prepared (null: nothing, or not yet), for the adopter, which closes it; the slot is done. */
        synchronized PreparedAdoption take() {
            done = true;
            PreparedAdoption p = held;
            held = null;
            return p;
        }

        void close() {
            close(take());
        }

        private static void close(PreparedAdoption p) {
            if (p != null) {
                try {
                    p.close();
                } catch (RuntimeException e) {
                    // what it holds is the driver's to release; its failure changes nothing here
                }
            }
        }
    }

    private DeviceAdoption() {
    }

    static Decision decide(XenStore xs, DeviceId id, String frontendPath) {
        String be = id.backendPath();
        List<Optional<String>> states = xs.tryReadAll(List.of(be + "/" + XenbusKeys.STATE, frontendPath + "/" + XenbusKeys.STATE));
        String backendState = states.get(0).orElse("");
        String frontendState = states.get(1).orElse("");
        String connected = XenbusState.CONNECTED.wire();
        if (!connected.equals(backendState) || !connected.equals(frontendState)) {
            return new Decision(Verdict.PROBE, Optional.empty(), "");
        }
        Optional<DeviceRecord.Recorded> record = DeviceRecord.read(xs, id);
        if (record.isEmpty()) {
            return new Decision(Verdict.PROBE, Optional.empty(), "Connected on both ends but nothing recorded under "
                    + be + "/" + DeviceRecord.DIR + " (not connected by this Backplane): probing it afresh");
        }
        Optional<String> owner = record.get().owner();
        if (owner.isPresent() && DeviceRecord.alive(owner.get())) {
            return new Decision(Verdict.LEAVE, record, "not served here: Connected and served by the live process "
                    + owner.get());
        }
        return new Decision(Verdict.ADOPT, record, owner.map(o -> "its backend process " + o + " is gone")
                .orElse("it was handed over"));
    }
}
