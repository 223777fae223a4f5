package io.backplane.backend;

import io.backplane.api.device.DeviceId;
import io.backplane.api.log.OperatorLog;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * A standby's eye on the processes that serve the devices it left alone: a {@code kill -9} of an
 * owner changes nothing in XenStore (its record still names it), so without this the devices
 * would wait for the next scan. Each owner's process is looked at every {@link #PERIOD_MILLIS}
 * (one /proc read); the moment it is gone its devices are discovered again, and
 * {@link DeviceAdoption} adopts them as a dead process's. A graceful handover needs none of
 * this: the owner key's removal is a change under the watched backend directory.
 */
final class OwnerWatch implements AutoCloseable {
    /** Adds at most this much to the pause of a kill -9 under a standby. */
    static final long PERIOD_MILLIS = 20;

    private record Watched(String owner, ProcessHandle process) {
    }

    private final OperatorLog log;
    private final BiConsumer<DeviceId, String> rediscover;
    private final Map<DeviceId, Watched> watched = new ConcurrentHashMap<>();
    private ScheduledExecutorService timer;
    private boolean closed;

    OwnerWatch(OperatorLog log, BiConsumer<DeviceId, String> rediscover) {
        this.log = log;
        this.rediscover = rediscover;
    }

    /** Looks at {@code id} again once {@code owner} (pid@start-millis) dies; at once when it is already gone. */
    synchronized void watch(DeviceId id, String owner) {
        if (closed) {
            return;
        }
        Optional<ProcessHandle> process = DeviceRecord.process(owner);
        if (process.isEmpty()) {
            rediscover.accept(id, id.backendPath());
            return;
        }
        watched.put(id, new Watched(owner, process.get()));
        if (timer == null) {
            timer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "xenbus-owner-watch");
                t.setDaemon(true);
                return t;
            });
            timer.scheduleWithFixedDelay(this::check, PERIOD_MILLIS, PERIOD_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    /** {@code id} was adopted (its owner let it go, or died): its old owner's death means nothing now. */
    void unwatch(DeviceId id) {
        watched.remove(id);
    }

    private void check() {
        watched.forEach((id, w) -> {
            // The handle compares the process's start time: a reused pid does not pass for the owner.
            if (!DeviceRecord.running(w.process()) && watched.remove(id, w)) {
                rediscover.accept(id, id.backendPath());     // first: the adoption need not wait for the log
                log.info(id + ": its backend process " + w.owner() + " died; adopting it");
            }
        });
    }

    @Override
    public synchronized void close() {
        closed = true;
        watched.clear();
        if (timer != null) {
            timer.shutdownNow();
        }
    }
}
