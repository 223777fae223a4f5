package io.backplane.netback.sink;

import io.backplane.api.log.OperatorLog;
import io.backplane.api.sink.PacketSink;
import io.backplane.api.sink.SinkRequest;
import io.backplane.nativeio.IoVector;
import io.backplane.nativeio.NativeException;
import io.backplane.nativeio.NativeIo;
import io.backplane.nativeio.TapDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A vif's TAP device ({@code IFF_TAP | IFF_NO_PI | IFF_VNET_HDR}: the sink's virtio header is
 * the TAP's own), up, and on its bridge when that bridge
 * exists ({@code ip link set NAME master BRIDGE}, what vif-bridge does). The interface goes
 * away with {@link #close()}. A multi-queue vif gets a TapSink per queue, each its own fd of the
 * one interface ({@link #openQueues}).
 *
 * <p>Persistent (TUNSETPERSIST, the factory's {@code tap.persistent}): the interface outlives this
 * process and a hand-over ({@link #handOver()}), so the backend that adopts the vif (a restart, a
 * standby after a kill, a netback update) attaches to the same interface, with the addresses, MTU,
 * bridge port and neighbour entries the host gave it: nothing to set up again, and the host can
 * answer the guest's first frame after the re-attach. {@link #close()} (the vif really closing)
 * clears the flag first, so the interface goes with it.
 */
final class TapSink implements PacketSink {
    /** The header, a copied head and a 64 KiB frame's pages: 18 slots at most (XEN_NETBK_LEGACY_SLOTS_MAX). */
    private static final int GATHER_PARTS = 24;
    /**
     * dom0's end of every vif, as Linux xen-netback gives its vif devices (fe:ff:ff:ff:ff:ff,
     * locally administered, unicast). Fixed, so a TAP created anew by a restart, a standby or a
     * netback update has the address the guest's neighbour entry for dom0 already names: no TCP
     * stall until that entry expires. The guest's own MAC is XenStore's {@code mac}, not this.
     */
    private static final byte[] VIF_MAC = {(byte) 0xfe, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff};
    private final NativeIo io;
    private final TapDevice tap;
    /** One iovec array per queue's worker (transmit runs on several), for frames given in pieces. */
    private final ThreadLocal<IoVector> gather;
    /** The reader's iovec array (one reader): the header, then up to a 64 KiB frame's pages and a spare. */
    private final IoVector scatter;
    private final String describe;
    private final OperatorLog log;
    private final AtomicLong transmitErrors = new AtomicLong();
    /** This sink made the interface persistent: {@link #close()} clears it (queues 1.. never do). */
    private final boolean persistent;
    private volatile boolean closed;

    private TapSink(NativeIo io, TapDevice tap, String describe, OperatorLog log, boolean persistent) {
        this.io = io;
        this.tap = tap;
        this.persistent = persistent;
        this.gather = ThreadLocal.withInitial(() -> new IoVector(io, GATHER_PARTS));
        this.scatter = new IoVector(io, GATHER_PARTS);
        this.describe = describe;
        this.log = log;
    }

    /**
     * Opens the TAP {@code request.name()}, creating it, or attaching to the persistent one a
     * previous backend left (then only what differs from the request is set again).
     *
     * @param persistent make the interface persistent (see the class comment)
     */
    static TapSink open(NativeIo io, SinkRequest request, OperatorLog log, boolean persistent) {
        Path sys = Path.of("/sys/class/net", request.name());
        boolean kept = persistent && Files.isDirectory(sys);
        TapDevice tap = io.openTapWithVnetHeader(request.name());
        try {
            if (persistent) {
                tap.setPersistent(true);
            }
            String where = "TAP " + tap.name();
            if (request.mtu() != 1500) {
                String failed = kept && Integer.toString(request.mtu()).equals(sysValue(sys.resolve("mtu"))) ? ""
                        : ip("link", "set", tap.name(), "mtu", Integer.toString(request.mtu()));
                where += failed.isEmpty() ? ", MTU " + request.mtu() : " (MTU " + request.mtu() + " not set: " + failed + ")";
            }
            if (!kept || !Arrays.equals(tap.hardwareAddress(), VIF_MAC)) {
                tap.setHardwareAddress(VIF_MAC);
            }
            tap.setUp(true);
            if (!request.bridge().isEmpty()) {
                where += addToBridge(tap.name(), request.bridge());
            }
            if (kept) {
                where += " (persistent: kept from the last backend with its addresses)";
            } else if (persistent) {
                where += " (persistent)";
            }
            return new TapSink(io, tap, where, log, persistent);
        } catch (RuntimeException e) {
            if (persistent && !kept) {
                clearPersistent(tap);
            }
            tap.close();
            throw e;
        }
    }

    private static String addToBridge(String name, String bridge) {
        if (!Files.isDirectory(Path.of("/sys/class/net", bridge, "bridge"))) {
            return " (bridge " + bridge + " does not exist: not bridged)";
        }
        Path master = Path.of("/sys/class/net", name, "master");
        try {
            if (Files.isSymbolicLink(master) && Files.readSymbolicLink(master).getFileName().toString().equals(bridge)) {
                return " on bridge " + bridge;           // a persistent TAP kept its bridge port
            }
        } catch (IOException e) {
            // not readable: join it as a new one would
        }
        String failed = ip("link", "set", name, "master", bridge);
        return failed.isEmpty() ? " on bridge " + bridge : " (adding to bridge " + bridge + " failed: " + failed + ")";
    }

    private static String sysValue(Path file) {
        try {
            return Files.readString(file).trim();
        } catch (IOException e) {
            return "";
        }
    }

    private static void clearPersistent(TapDevice tap) {
        try {
            tap.setPersistent(false);
        } catch (NativeException e) {
            // the close below still detaches this queue; the interface then stays until the next open
        }
    }

    /** Runs {@code ip ARGS}; empty when it worked, else what went wrong. */
    private static String ip(String... args) {
        try {
            java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("ip"));
            cmd.addAll(java.util.List.of(args));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "ip did not finish in 10 s";
            }
            return p.exitValue() == 0 ? "" : out.isEmpty() ? "ip exited with " + p.exitValue() : out;
        } catch (IOException e) {
            return e.getMessage() + " (install iproute2)";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    @Override
    public String name() {
        return tap.name();
    }

    @Override
    public String describe() {
        return describe;
    }

    /** A frame the host does not take (interface down: EIO) is dropped, as a NIC would; logged once per 1000. */
    @Override
    public void transmit(ByteBuffer frame) {
        try {
            tap.write(frame);
        } catch (NativeException e) {
            if (transmitErrors.getAndIncrement() % 1000 == 0 && !closed) {
                log.warn(tap.name() + ": host refused a frame from the guest (" + e.getMessage() + "); dropped");
            }
        }
    }

    /** A frame in pieces (a zero-copy strategy's guest pages): one writev, no copy in this process. */
    @Override
    public void transmit(ByteBuffer[] parts, int from, int count) {
        if (count > GATHER_PARTS) {
            PacketSink.super.transmit(parts, from, count);
            return;
        }
        IoVector iov = gather.get();
        iov.clear();
        for (int i = from; i < from + count; i++) {
            iov.add(parts[i]);
        }
        try {
            tap.write(iov);
        } catch (NativeException e) {
            if (transmitErrors.getAndIncrement() % 1000 == 0 && !closed) {
                log.warn(tap.name() + ": host refused a frame from the guest (" + e.getMessage() + "); dropped");
            }
        }
    }

    @Override
    public int receive(ByteBuffer frame, int timeoutMillis) {
        if (closed) {
            return -1;
        }
        try {
            return tap.read(frame, timeoutMillis);
        } catch (NativeException e) {
            if (closed) {
                return -1;
            }
            throw e;
        }
    }

    @Override
    public int awaitFrame(int timeoutMillis) {
        if (closed) {
            return -1;
        }
        try {
            return tap.await(timeoutMillis) ? 1 : 0;
        } catch (NativeException e) {
            if (closed) {
                return -1;
            }
            throw e;
        }
    }

    /** One readv from the TAP into the caller's buffers (a guest's RX pages): no copy in this process. */
    @Override
    public int receive(ByteBuffer[] parts, int from, int count) {
        if (closed) {
            return -1;
        }
        if (count > GATHER_PARTS) {
            return PacketSink.super.receive(parts, from, count);
        }
        scatter.clear();
        for (int i = from; i < from + count; i++) {
            scatter.add(parts[i]);
        }
        try {
            return (int) tap.read(scatter);
        } catch (NativeException e) {
            if (closed) {
                return -1;
            }
            throw e;
        }
    }

    /**
     * This queue and {@code count - 1} more attached to the interface, each with its own fd: the
     * kernel gives each flow's frames to one queue (by hash, or the queue that last sent that
     * flow), so queue K's reader reads only its own. When a queue cannot be attached, only this
     * one, saying why (the caller then spreads the frames itself).
     */
    @Override
    public List<PacketSink> openQueues(int count) {
        List<PacketSink> queues = new ArrayList<>(List.of(this));
        try {
            while (queues.size() < count) {
                queues.add(new TapSink(io, tap.attachQueue(), describe, log, false));
            }
            return queues;
        } catch (NativeException e) {
            queues.subList(1, queues.size()).forEach(PacketSink::close);
            log.warn(tap.name() + ": could not attach TAP queue " + queues.size() + " of " + count + " (" + e.getMessage()
                    + "); one reader spreads the frames for the guest over its queues, copied");
            return List.of(this);
        }
    }

    @Override
    public void acceptOffloads(boolean checksum, boolean tcpv4, boolean tcpv6) {
        tap.setOffload((checksum ? TapDevice.TUN_F_CSUM : 0) | (checksum && tcpv4 ? TapDevice.TUN_F_TSO4 : 0)
                | (checksum && tcpv6 ? TapDevice.TUN_F_TSO6 : 0));
    }

    /** The vif really closes: a persistent interface is made transient first, so it goes with this fd. */
    @Override
    public void close() {
        closed = true;
        if (persistent) {
            clearPersistent(tap);
        }
        tap.close();
    }

    /** A hand-over: this fd goes, a persistent interface stays for the successor. */
    @Override
    public void handOver() {
        closed = true;
        tap.close();
    }
}
