package io.backplane.netback;

import io.backplane.api.sink.PacketSink;
import io.backplane.nativeio.NativeIo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * One reader of the host's frames for the guest (what Linux netback gets in xenvif_start_xmit),
 * on a thread of its own, from one host queue of a vif's sink. When that host queue feeds one
 * vif queue only (a vif of one queue, or queue K of a multi-queue TAP, where the kernel already
 * chose the queue by flow), the frame's queue is known before it is read, so it is read straight
 * into the guest's RX pages when the ring's strategy lends them ({@link NetbackQueue#receiveDirect});
 * otherwise, or when that cannot be done for this frame, it is read into a buffer of its own and
 * copied, to the queue its flow hashes to when one host queue feeds them all (xenvif_select_queue).
 */
final class SinkReader implements Runnable {
    private static final int SINK_POLL_MILLIS = 200;
    /**
     * Frames read per wake-up before they are delivered together (netback's NAPI budget): one
     * grant copy batch and one notification for what the host queued meanwhile.
     */
    private static final int READ_BATCH = 64;

    private final PacketSink from;
    private final List<NetbackQueue> to;
    private final BooleanSupplier running;
    private final Consumer<String> log;
    /** For the read buffer ({@link QueueMemory}); null: allocateDirect's. */
    private final NativeIo io;

    /**
     * @param to      the vif queue this host queue feeds, or all of them (spread by flow hash)
     * @param running false once the vif disconnects or is disabled
     */
    SinkReader(PacketSink from, List<NetbackQueue> to, BooleanSupplier running, Consumer<String> log, NativeIo io) {
        this.from = from;
        this.to = List.copyOf(to);
        this.running = running;
        this.log = log;
        this.io = io;
    }

    @Override
    public void run() {
        // A virtio_net_hdr and up to a 64 KiB GSO frame, in memory touched only as frames fill it.
        QueueMemory memory = QueueMemory.map(io, 1 << 17);
        try {
            read(memory.part(0).order(ByteOrder.BIG_ENDIAN));
        } finally {
            memory.unmap();                      // this thread was its only user
        }
    }

    private void read(ByteBuffer buf) {
        boolean[] touched = new boolean[to.size()];
        while (running.getAsBoolean()) {
            int n;
            try {
                int ready = from.awaitFrame(SINK_POLL_MILLIS);
                if (ready <= 0) {
                    if (ready < 0) {
                        return;
                    }
                    continue;
                }
                if (to.size() == 1) {
                    int direct = to.get(0).receiveDirect(from);
                    if (direct == RxPath.DIRECT_CLOSED) {
                        return;
                    }
                    if (direct == RxPath.DIRECT_TAKEN) {
                        continue;
                    }
                }
                buf.clear();
                n = from.receive(buf, SINK_POLL_MILLIS);
            } catch (RuntimeException e) {
                log.accept("sink " + from.name() + " failed, no more frames for the guest: " + e.getMessage());
                return;
            }
            if (n < 0) {
                return;
            }
            if (n == 0) {
                continue;
            }
            // This frame and whatever else the host queued by now, without waiting, then one delivery.
            boolean closed = false;
            for (int k = 0; k < READ_BATCH && n > 0; k++) {
                byte[] frame = new byte[n];
                buf.get(0, frame);
                int q = to.size() == 1 ? 0 : Math.floorMod(flowHash(frame, VnetHeader.SIZE), to.size());
                touched[q] |= to.get(q).offer(frame);
                if (k + 1 < READ_BATCH) {
                    buf.clear();
                    try {
                        n = from.receive(buf, 0);
                    } catch (RuntimeException e) {
                        log.accept("sink " + from.name() + " failed, no more frames for the guest: " + e.getMessage());
                        n = -1;
                    }
                    closed = n < 0;
                }
            }
            for (int q = 0; q < touched.length; q++) {
                if (touched[q]) {
                    touched[q] = false;
                    to.get(q).deliver();
                }
            }
            if (closed) {
                return;
            }
        }
    }

    /**
     * A flow hash over IPv4 addresses and TCP/UDP ports of the frame starting at {@code at},
     * 0 for anything else (queue 0).
     */
    static int flowHash(byte[] b, int at) {
        if (b.length < at + 34 || b[at + 12] != 0x08 || b[at + 13] != 0x00) {
            return 0;
        }
        int h = 0;
        for (int i = at + 26; i < at + 34; i++) {
            h = h * 31 + (b[i] & 0xFF);
        }
        int l4 = at + 14 + (b[at + 14] & 0x0F) * 4;
        int proto = b[at + 23] & 0xFF;
        if ((proto == 6 || proto == 17) && b.length >= l4 + 4) {
            for (int i = l4; i < l4 + 4; i++) {
                h = h * 31 + (b[i] & 0xFF);
            }
        }
        return h ^ (h >>> 16);
    }
}
