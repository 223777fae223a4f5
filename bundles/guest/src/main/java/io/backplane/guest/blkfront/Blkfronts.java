package io.backplane.guest.blkfront;

import io.backplane.api.log.OperatorLog;
import io.backplane.api.xenstore.XenStore;
import io.backplane.guest.sim.SimGuest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The guest's block frontends: one {@link Blkfront} for every {@code device/vbd/<devid>} the
 * toolstack created for this domain. A device's own {@code backplane-workload} key (written by
 * the toolstack) overrides the guest-wide options. With a flush record directory, device N
 * records its completed flushes in {@code vbd-N.flushed} there ({@link FlushRecord}).
 */
public final class Blkfronts implements AutoCloseable {
    /** Frontend key with a per-device workload, in {@link BlkfrontOptions#parse} form. */
    public static final String WORKLOAD_KEY = "backplane-workload";
    /**
     * Frontend key that ends the random phase when set to 1 (a test's way to stop an endless
     * workload, {@code ops=-1}): the verify pass follows, then phase {@code done} with every
     * request answered.
     */
    public static final String STOP_KEY = "backplane-stop";

    private final List<Blkfront> fronts;

    private Blkfronts(List<Blkfront> fronts) {
        this.fronts = fronts;
    }

    public static Blkfronts start(SimGuest guest, XenStore xs, String options, OperatorLog log, Path flushRecordDir) {
        String vbds = "/local/domain/" + guest.domid() + "/device/vbd";
        List<Blkfront> started = new ArrayList<>();
        List<String> devids = xs.exists(vbds) ? xs.directory(vbds) : List.of();
        for (String devid : devids) {
            String spec = xs.tryRead(vbds + "/" + devid + "/" + WORKLOAD_KEY).orElse(options);
            try {
                FlushRecord record = flushRecordDir == null ? null : new FlushRecord(flushRecordDir.resolve("vbd-" + devid + ".flushed"));
                started.add(Blkfront.start(guest, xs, Integer.parseInt(devid), BlkfrontOptions.parse(spec), log, record));
            } catch (RuntimeException e) {
                log.info("vbd " + devid + ": not started: " + e.getMessage());
            }
        }
        return new Blkfronts(started);
    }

    public List<Blkfront> fronts() {
        return List.copyOf(fronts);
    }

    @Override
    public void close() {
        fronts.forEach(Blkfront::close);
    }
}
