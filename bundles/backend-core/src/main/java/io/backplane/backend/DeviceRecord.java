package io.backplane.backend;

import io.backplane.api.backend.XenbusKeys;
import io.backplane.api.backend.XenbusState;
import io.backplane.api.device.DeviceId;
import io.backplane.api.xenstore.XenStore;
import io.backplane.api.xenstore.XsError;
import io.backplane.api.xenstore.XsException;
import io.backplane.api.xenstore.XsPerm;
import io.backplane.api.xenstore.XsTransaction;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * What a connected device's successor needs to re-attach without renegotiating, kept in
 * XenStore under the backend directory (the one owner of these key names; docs/backends.md,
 * "Restart and re-attach"):
 *
 * <pre>
 * backplane/offer/&lt;key&gt;       the offer the frontend connected against (feature-*, max-*)
 * backplane/connection/&lt;key&gt;  what the driver's connect decided (BackendDevice.connection())
 * backplane/owner              pid@start-millis of the process serving it; gone after a handover
 * backplane/files              the owner's directory of the device's files (below), when it has one
 * backplane/generation         new at every write of offer and connection: a standby that read the
 *                              record earlier sees from this one key whether it still holds
 * </pre>
 *
 * and beside it, in the runtime's state directory (which outlives the process, not the host), the
 * device's files a successor needs as well (a ring's request mirror): {@link #FILES}{@code /<type>/<domid>/<devid>/}.
 *
 * Only dom0 may read the {@code backplane} directory (the guest has no business with it). No state
 * key is ever written here: a Linux frontend does not survive its backend leaving Connected.
 */
final class DeviceRecord {
    static final String DIR = "backplane";
    static final String OFFER = DIR + "/offer";
    static final String CONNECTION = DIR + "/connection";
    static final String OWNER = DIR + "/owner";
    static final String OWNER_FILES = DIR + "/files";
    static final String GENERATION = DIR + "/generation";
    /** Under the state directory: one directory per device for its files ({@link #files}). */
    static final String FILES = "devices";

    /**
     * A record as read back.
     *
     * @param owner      the process that served the device last, empty when it handed the device over
     * @param files      where that process kept the device's files (its request mirrors), if anywhere
     * @param generation the write it came from (empty: written by a Backplane that kept none)
     */
    record Recorded(Map<String, String> offer, Map<String, String> connection, Optional<String> owner,
                    Optional<Path> files, Optional<String> generation) {
    }

    /** What a {@link #claim} found. */
    enum Claim {
        /** This process owns the record now. */
        CLAIMED,
        /** A running process holds it: another adopter claimed it first, or its owner never let it go. */
        OWNED,
        /** It is not the device the adopter decided on any more: read it afresh. */
        CHANGED
    }

    /**
     * @param claim  the outcome
     * @param owner  the owner the claim found (the previous one when claimed; the holder when owned)
     * @param files  the files directory the claim found, for {@link #takeFiles}
     * @param generation the record's generation the claim found
     * @param why    what differed, in operator words, when not claimed
     */
    record Claimed(Claim claim, Optional<String> owner, Optional<Path> files, Optional<String> generation, String why) {
    }

    private DeviceRecord() {
    }

    /** Replaces the record in one transaction; nothing when the backend directory is gone. */
    static void write(XenStore xs, DeviceId id, Map<String, String> offer, Map<String, String> connection, Path stateDir) {
        String be = id.backendPath();
        xs.transaction(tx -> {
            if (!tx.exists(be)) {
                return null;
            }
            if (tx.exists(be + "/" + DIR)) {
                tx.rm(be + "/" + DIR);
            }
            tx.mkdir(be + "/" + DIR);
            // Children inherit the directory's permissions: dom0 only.
            tx.setPerms(be + "/" + DIR, List.of(XsPerm.none(id.backendDomid())));
            offer.forEach((k, v) -> tx.write(be + "/" + OFFER + "/" + k, v));
            connection.forEach((k, v) -> tx.write(be + "/" + CONNECTION + "/" + k, v));
            tx.write(be + "/" + OWNER, self());
            if (stateDir != null) {
                tx.write(be + "/" + OWNER_FILES, files(stateDir, id).toString());
            }
            tx.write(be + "/" + GENERATION, Long.toHexString(ThreadLocalRandom.current().nextLong()));
            return null;
        });
    }

    /**
     * The record of {@code id}, empty when there is none (never connected, or not since a
     * disconnect): the two listings, then every value in one round trip.
     */
    static Optional<Recorded> read(XenStore xs, DeviceId id) {
        String be = id.backendPath();
        Optional<List<String>> connection = children(xs, be + "/" + CONNECTION);
        if (connection.isEmpty()) {
            return Optional.empty();
        }
        List<String> offer = children(xs, be + "/" + OFFER).orElse(List.of());
        List<String> paths = new ArrayList<>(List.of(be + "/" + OWNER, be + "/" + OWNER_FILES, be + "/" + GENERATION));
        connection.get().forEach(k -> paths.add(be + "/" + CONNECTION + "/" + k));
        offer.forEach(k -> paths.add(be + "/" + OFFER + "/" + k));
        List<Optional<String>> values = xs.tryReadAll(paths);
        return Optional.of(new Recorded(values(offer, values.subList(3 + connection.get().size(), values.size())),
                values(connection.get(), values.subList(3, 3 + connection.get().size())), values.get(0),
                values.get(1).map(Path::of), values.get(2)));
    }

    /**
     * An adopter takes the record over before it maps anything, in one transaction that carries
     * every check its decision rests on, read in the same round trip as its writes (committed only
     * when they all hold, else aborted, which undoes the writes): both ends still Connected, the
     * backend directory still naming {@code frontend} and online, the record still the one decided
     * on (its generation), and its owner absent (handed over) or {@code record}'s owner and no
     * longer running (killed). Three round trips: start, reads and writes, commit. A second
     * adopter racing for the device finds the first one's owner, or fails to commit and finds it
     * on its retry: never two owners.
     *
     * @param frontend the frontend directory the adopter found the device with
     * @param record   the record the adopter decided on, at its probe or when it left the device to its owner
     */
    static Claimed claim(XenStore xs, DeviceId id, String frontend, Recorded record, Path stateDir) {
        return claim(xs, id, frontend, record, stateDir, false);
    }

    /**
     * A standby's rehearsal of the claim of a device it leaves to its live owner: the same
     * transaction and checks, without a write and always aborted, so that the claim's code has run
     * before the owner goes. Says what a claim would find now.
     */
    static Claimed rehearseClaim(XenStore xs, DeviceId id, String frontend, Recorded record) {
        return claim(xs, id, frontend, record, null, true);
    }

    private static Claimed claim(XenStore xs, DeviceId id, String frontend, Recorded record, Path stateDir, boolean rehearsal) {
        String be = id.backendPath();
        List<String> reads = List.of(be + "/" + XenbusKeys.STATE, frontend + "/" + XenbusKeys.STATE,
                be + "/" + XenbusKeys.FRONTEND, be + "/" + XenbusKeys.FRONTEND_ID, be + "/" + XenbusKeys.ONLINE,
                be + "/" + GENERATION, be + "/" + OWNER, be + "/" + OWNER_FILES);
        Map<String, String> writes = new LinkedHashMap<>();
        String self = self();                      // in a rehearsal too: its first call reads /proc
        if (!rehearsal) {
            writes.put(be + "/" + OWNER, self);
        }
        if (stateDir != null) {
            writes.put(be + "/" + OWNER_FILES, files(stateDir, id).toString());
        }
        String connected = XenbusState.CONNECTED.wire();
        XsException conflict = null;
        for (int attempt = 0; attempt < XenStore.TRANSACTION_RETRIES; attempt++) {
            XsTransaction tx = xs.begin();
            try {
                List<Optional<String>> v = tx.tryReadAllThenWrite(reads, writes);
                Optional<String> owner = v.get(6);
                Optional<Path> files = v.get(7).map(Path::of);
                String why = "";
                Claim claim = Claim.CHANGED;
                if (owner.isPresent() && alive(owner.get())) {
                    claim = Claim.OWNED;
                    why = "served by the live process " + owner.get();
                } else if (owner.isPresent() && !owner.equals(record.owner())) {
                    why = "its owner is " + owner.get() + " now";
                } else if (!v.get(0).orElse("").equals(connected) || !v.get(1).orElse("").equals(connected)) {
                    why = "backend state " + v.get(0).orElse("(none)") + ", frontend state " + v.get(1).orElse("(none)");
                } else if (!v.get(2).orElse("").equals(frontend) || !v.get(3).orElse("").equals(Integer.toString(id.frontendDomid()))
                        || !v.get(4).orElse("").equals("1")) {
                    why = "its backend directory no longer names frontend " + frontend + " online";
                } else if (!v.get(5).equals(record.generation())
                        || record.generation().isEmpty() && !tx.exists(be + "/" + CONNECTION)) {
                    why = "its record was written again";
                } else {
                    claim = Claim.CLAIMED;
                }
                if (claim != Claim.CLAIMED || rehearsal) {
                    tx.abort();
                    return new Claimed(claim, owner, files, v.get(5), why);
                }
                if (stateDir == null && files.isPresent()) {
                    tx.rm(be + "/" + OWNER_FILES);
                }
                tx.commit();
                return new Claimed(Claim.CLAIMED, owner, files, v.get(5), "");
            } catch (XsException e) {
                tx.abort();
                if (e.error() != XsError.EAGAIN) {
                    throw e;
                }
                conflict = e;            // another writer (a second adopter) came between: look again
            } catch (RuntimeException e) {
                tx.abort();
                throw e;
            }
        }
        throw conflict;
    }

    /**
     * A successor on another state directory (a standby) takes over the files its predecessor kept
     * for the device (the request mirrors a crash leaves): moved into its own directory, where the
     * driver opens them. Nothing when the predecessor kept them where this process keeps its own.
     */
    static void takeFiles(Path from, Path stateDir, DeviceId id) throws IOException {
        Path to = files(stateDir, id);
        if (from.equals(to) || !Files.isDirectory(from)) {
            return;
        }
        Files.createDirectories(to);
        try (Stream<Path> all = Files.list(from)) {
            for (Path f : all.toList()) {
                Files.move(f, to.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    /**
     * A graceful handover: the record stays for the successor, the owner goes (one round trip: a
     * successor already running adopts the moment it goes).
     */
    static void release(XenStore xs, DeviceId id) {
        rm(xs, id.backendPath() + "/" + OWNER);
    }

    /** The device disconnected: there is nothing left to adopt. */
    static void forget(XenStore xs, DeviceId id) {
        rm(xs, id.backendPath() + "/" + DIR);
    }

    /** RM, which answers OK for a missing node under an existing parent; nothing when the parent is gone too. */
    private static void rm(XenStore xs, String path) {
        try {
            xs.rm(path);
        } catch (XsException e) {
            if (e.error() != XsError.ENOENT) {
                throw e;
            }
        }
    }

    /** The directory of {@code id}'s files under the state directory {@code stateDir}. */
    static Path files(Path stateDir, DeviceId id) {
        return stateDir.resolve(FILES).resolve(id.type()).resolve(Integer.toString(id.frontendDomid()))
                .resolve(Integer.toString(id.devid()));
    }

    /** The device is gone or disconnected: its files go with its record. */
    static void forgetFiles(Path stateDir, DeviceId id) throws IOException {
        Path dir = files(stateDir, id);
        if (Files.isDirectory(dir)) {
            try (Stream<Path> all = Files.walk(dir)) {
                for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** This process as an owner: its pid and start time, so a reused pid is not taken for it. */
    static String self() {
        ProcessHandle p = ProcessHandle.current();
        return p.pid() + "@" + p.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
    }

    /**
     * True when {@code owner} names a process that still runs (this one included): its device
     * is served, or about to be. A malformed owner is taken for a dead one.
     */
    static boolean alive(String owner) {
        return process(owner).isPresent();
    }

    /**
     * The running process {@code owner} names, empty when it is gone (or the pid is another
     * process's now). The handle keeps its start time: its {@code isAlive()} stays false once
     * the owner dies, even when the pid is reused.
     */
    static Optional<ProcessHandle> process(String owner) {
        int at = owner.indexOf('@');
        try {
            long pid = Long.parseLong(owner.substring(0, at < 0 ? owner.length() : at));
            long started = at < 0 ? 0 : Long.parseLong(owner.substring(at + 1));
            return ProcessHandle.of(pid).filter(DeviceRecord::running)
                    .filter(p -> p.info().startInstant().map(Instant::toEpochMilli).orElse(0L) == started);
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * Alive and not a zombie: {@code ProcessHandle.isAlive()} stays true for a process that has
     * exited until its parent reaps it, but a zombie has released its mappings, ports and TAP
     * (its exit did that) and serves nothing: a successor may adopt at once.
     */
    static boolean running(ProcessHandle p) {
        if (!p.isAlive()) {
            return false;
        }
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(p.pid()), "stat"));
            // pid (comm) state ...: comm may hold spaces and parentheses, the state follows the last ')'.
            int end = stat.lastIndexOf(')');
            return end < 0 || end + 2 >= stat.length() || stat.charAt(end + 2) != 'Z';
        } catch (IOException | RuntimeException e) {
            return p.isAlive();                     // no /proc (or gone meanwhile): what the handle says
        }
    }

    /** The directory's keys, empty when it is missing. */
    private static Optional<List<String>> children(XenStore xs, String dir) {
        try {
            return Optional.of(xs.directory(dir));
        } catch (XsException e) {
            if (e.error() == XsError.ENOENT) {
                return Optional.empty();
            }
            throw e;
        }
    }

    private static Map<String, String> values(List<String> keys, List<Optional<String>> values) {
        Map<String, String> out = new TreeMap<>();
        for (int i = 0; i < keys.size(); i++) {
            String k = keys.get(i);
            values.get(i).ifPresent(v -> out.put(k, v));
        }
        return out;
    }
}
