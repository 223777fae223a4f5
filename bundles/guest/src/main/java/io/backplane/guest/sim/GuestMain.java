package io.backplane.guest.sim;

import io.backplane.api.hypervisor.ShutdownReason;
import io.backplane.api.log.OperatorLog;
import io.backplane.guest.blkfront.BlkfrontOptions;
import io.backplane.guest.blkfront.Blkfronts;
import io.backplane.guest.netfront.NetfrontLauncher;
import io.backplane.guest.netfront.NetfrontOptions;
import io.backplane.nativeio.NativeIo;
import io.backplane.xs.client.SocketXenStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The guest program the toolstack starts for a sim domain:
 * {@code java -jar backplane-guest.jar --state-dir DIR --domid N [PROGRAM [ARGS...]]}.
 * Without a program it attaches, reports its domain and waits until the domain is destroyed
 * (a guest with no devices). Frontend simulators are added as programs.
 */
public final class GuestMain {

    private GuestMain() {
    }

    public static void main(String[] args) throws Exception {
        Path stateDir = null;
        int domid = -1;
        String vbdOptions = "";
        String netOptions = "";
        String shutdownOption = null;
        Path flushRecordDir = null;
        List<String> rest = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--state-dir" -> stateDir = Path.of(value(args, ++i, "--state-dir"));
                case "--domid" -> domid = parseDomid(value(args, ++i, "--domid"));
                case "--vbd" -> vbdOptions = value(args, ++i, "--vbd");
                case "--net" -> netOptions = value(args, ++i, "--net");
                case "--shutdown" -> shutdownOption = value(args, ++i, "--shutdown");
                case "--flush-record" -> flushRecordDir = Path.of(value(args, ++i, "--flush-record"));
                case "-h", "--help" -> {
                    usage();
                    return;
                }
                default -> rest.add(args[i]);
            }
        }
        if (stateDir == null || domid < 1) {
            usage();
            System.exit(2);
        }
        try {
            BlkfrontOptions.parse(vbdOptions);
        } catch (IllegalArgumentException e) {
            System.err.println("backplane-guest: " + e.getMessage());
            System.exit(2);
        }
        try {
            NetfrontOptions.parse(netOptions);
        } catch (IllegalArgumentException e) {
            System.err.println("backplane-guest: --net: " + e.getMessage());
            System.exit(2);
        }
        if (flushRecordDir != null && !Files.isDirectory(flushRecordDir)) {
            System.err.println("backplane-guest: --flush-record: " + flushRecordDir + " is not a directory");
            System.exit(2);
        }
        ShutdownReason shutdownReason = null;
        long shutdownMillis = 0;
        if (shutdownOption != null) {
            String[] parts = shutdownOption.split("@", 2);
            try {
                shutdownReason = ShutdownReason.valueOf(parts[0].toUpperCase(java.util.Locale.ROOT));
                shutdownMillis = parts.length == 2 ? (long) (Double.parseDouble(parts[1]) * 1000) : 0;
            } catch (IllegalArgumentException e) {
                System.err.println("backplane-guest: --shutdown wants REASON[@SECONDS] (poweroff, reboot, crash, ...),"
                        + " not '" + shutdownOption + "'");
                System.exit(2);
            }
        }
        if (!rest.isEmpty()) {
            System.err.println("backplane-guest: unknown program '" + rest.get(0) + "'");
            usage();
            System.exit(2);
        }
        Object gone = new Object();
        try (SimGuest guest = SimGuest.attach(stateDir, domid, new NativeIo(), () -> {
            synchronized (gone) {
                gone.notifyAll();
            }
        })) {
            // The hook before "attached": a SIGTERM from then on powers the domain off.
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                if (guest.eventChannels().connected()) {
                    guest.shutdown(ShutdownReason.POWEROFF);
                }
            }));
            System.out.println("domain " + domid + ": attached, " + guest.memory().pages() + " pages, "
                    + guest.grants().entries() + " grant entries");
            long shutdownAt = System.nanoTime() + shutdownMillis * 1_000_000;
            try (AutoCloseable frontends = startFrontends(guest, vbdOptions, netOptions, flushRecordDir)) {
                synchronized (gone) {
                    while (guest.eventChannels().connected()) {
                        if (shutdownReason != null) {
                            long left = (shutdownAt - System.nanoTime()) / 1_000_000;
                            if (left <= 0) {
                                break;
                            }
                            gone.wait(Math.min(left, 1000));
                        } else {
                            gone.wait(1000);
                        }
                    }
                }
                if (shutdownReason != null && guest.eventChannels().connected()) {
                    // As a kernel does at the end of its shutdown: SCHEDOP_shutdown, and the domain stops.
                    guest.shutdown(shutdownReason);
                    System.out.println("domain " + domid + ": shut down: " + shutdownReason.name().toLowerCase(java.util.Locale.ROOT));
                    Runtime.getRuntime().halt(0);
                }
            }
            System.out.println("domain " + domid + ": destroyed by the hypervisor");
        }
    }

    /** The frontends of the domain's devices, over its own XenStore connection (none without one). */
    private static AutoCloseable startFrontends(SimGuest guest, String vbdOptions, String netOptions, Path flushRecordDir)
            throws IOException {
        if (!Files.exists(guest.xenstoreSocket())) {
            System.out.println("domain " + guest.domid() + ": no xenstore.sock, no devices");
            return () -> { };
        }
        SocketXenStore xs = new SocketXenStore(guest.xenstoreSocket());
        Blkfronts vbds = Blkfronts.start(guest, xs, vbdOptions, OperatorLog.lines(System.out::println), flushRecordDir);
        NetfrontLauncher vifs = new NetfrontLauncher(guest, xs, netOptions);
        return () -> {
            vifs.close();
            vbds.close();
            xs.close();
        };
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            System.err.println("backplane-guest: " + option + " needs a value");
            System.exit(2);
        }
        return args[i];
    }

    private static int parseDomid(String s) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            System.err.println("backplane-guest: --domid wants a number, not '" + s + "'");
            System.exit(2);
            return -1;
        }
    }

    private static void usage() {
        System.err.println("usage: java -jar backplane-guest.jar --state-dir DIR --domid N [--vbd OPTIONS] [--net OPTIONS]"
                + " [--shutdown REASON[@SECONDS]] [--flush-record DIR]"
                + " [PROGRAM [ARGS...]]\n"
                + "  Attaches to sim domain N under DIR/domains/N (see docs/sim-abi.md), starts a blkfront for\n"
                + "  every device/vbd/* and a netfront for every device/vif/* of the domain and waits until the\n"
                + "  domain is destroyed.\n"
                + "  --vbd: " + BlkfrontOptions.HELP + "\n"
                + "  --net: key=value,... ip, queues, split, size=64:512:1514, rate (frames/s per queue), count\n"
                + "         (frames per queue), force-queues, bogus=cross-page|slots|drop-slots (docs/netback.md)\n"
                + "  --shutdown: after SECONDS (default 0) shut the domain down with REASON (poweroff, reboot, crash,"
                + " watchdog) and exit, as a guest kernel would\n"
                + "  --flush-record: after every completed flush, vbd N writes the version of each sector that flush\n"
                + "         made durable to DIR/vbd-N.flushed and fsyncs it (to check the image after a dom0 crash)");
    }
}
