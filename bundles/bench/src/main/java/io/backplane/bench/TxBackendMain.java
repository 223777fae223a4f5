package io.backplane.bench;

import io.backplane.ring.BackRing;
import io.backplane.ring.RingLayout;
import io.backplane.ring.RingShape;
import io.backplane.ring.layout.NetifConstants;
import io.backplane.ring.layout.NetifTxRequestDescriptor;
import io.backplane.ring.layout.NetifTxResponseDescriptor;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The Java backend of the ring benchmark, the same job as ring-core's netback_tx.c: attach to the
 * ring a frontend initialised in FILE, read each request once, answer NETIF_RSP_OKAY with its id,
 * push per pass, final check before idling. Uses the batch form of BackRing (runs split at the
 * wrap point, fields at descriptor offsets), the fast path a strategy would take. FLAGS picks the
 * ring layout as ring_layouts.h numbers them (1 split indexes, 2 aligned slots, 4 separate rings;
 * 0 ring.h); with two FIFOs it sleeps on its own when idle and notifies the frontend through the
 * other, as ring-core's ring_wait.h does for the C peers.
 *
 * <p>Usage: {@code TxBackendMain FILE TOTAL [FLAGS [NOTIFY_FIFO WAIT_FIFO]]}; prints
 * {@code answered TOTAL bytes SUM}.
 */
public final class TxBackendMain {

    // Plain-mode VarHandle slot accesses: measured faster here than ByteBuffer getters on a mapped
    // buffer. Plain is enough: the acquire of req_prod in unconsumedRequests() orders them.
    private static final VarHandle I32 = MethodHandles.byteBufferViewVarHandle(int[].class, java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle I16 = MethodHandles.byteBufferViewVarHandle(short[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

    private TxBackendMain() {
    }

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        int total = Integer.parseInt(args[1]);
        RingLayout layout = layout(args.length > 2 ? Integer.parseInt(args[2]) : 0);
        ByteBuffer shared;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            shared = ch.map(FileChannel.MapMode.READ_WRITE, 0, layout.bytes());
        }
        try (Notifications n = args.length > 4 ? new Notifications(args[3], args[4]) : null) {
            long bytes = serve(BackRing.attach(shared, layout), total, System.nanoTime() + 300_000_000_000L, n);
            System.out.println("answered " + total + " bytes " + bytes);
        }
    }

    /** The netif TX ring of one page per direction in the layout of ring_layouts.h's {@code flags}. */
    static RingLayout layout(int flags) {
        return new RingShape((flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0)
                .layout("netif-tx", 1, NetifTxRequestDescriptor.LENGTH, NetifTxResponseDescriptor.LENGTH);
    }

    /** ring_wait.h's FIFO pair: a notify is one byte to the peer's; a sleep drains our own. */
    static final class Notifications implements AutoCloseable {
        private final RandomAccessFile notify;
        private final RandomAccessFile wait;
        private final byte[] drain = new byte[64];

        Notifications(String notifyFifo, String waitFifo) throws IOException {
            // "rw" opens O_RDWR: neither open blocks for the peer, as in ring_wait.h.
            notify = new RandomAccessFile(notifyFifo, "rw");
            wait = new RandomAccessFile(waitFifo, "rw");
        }

        void notifyPeer() {
            try {
                notify.write(1);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        void sleep() {
            try {
                wait.read(drain);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void close() throws IOException {
            notify.close();
            wait.close();
        }
    }

    /**
     * Answers {@code total} requests; returns the sum of their sizes (plus one bit of the other
     * fields), so every field read is used. Gives up when idle past {@code deadline} ({@link System#nanoTime()}).
     * {@code notifications} null: busy-polls.
     */
    static long serve(BackRing back, int total, long deadline, Notifications notifications) {
        ByteBuffer ring = back.buffer();
        int stride = back.requestSlotStride();
        int rspStride = back.responseSlotStride();
        long bytes = 0;
        int consumed = 0;
        long idle = 0;
        while (consumed < total) {
            int n = back.unconsumedRequests();
            if (n == 0) {
                if (!back.finalCheckForRequests()) {
                    if (notifications != null) {
                        notifications.sleep();
                        continue;
                    }
                    if ((++idle & 0xfff) == 0) {
                        if (System.nanoTime() > deadline) {
                            throw new IllegalStateException("timed out after " + consumed + " of " + total + " requests");
                        }
                        Thread.yield();
                    }
                    Thread.onSpinWait();
                }
                continue;
            }
            consumed += n;
            while (n > 0) {
                int cons = back.requestConsumer();
                int prod = back.responseProducerPrivate();
                int run = Math.min(n, Math.min(back.slotsBeforeWrap(cons), back.slotsBeforeWrap(prod)));
                int in = back.requestSlotOffset(cons);
                int out = back.responseSlotOffset(prod);
                for (int i = 0; i < run; i++, in += stride, out += rspStride) {
                    // one read of each field: the copy the backend works on
                    int gref = (int) I32.get(ring, in + NetifTxRequestDescriptor.GREF_OFFSET);
                    short offset = (short) I16.get(ring, in + NetifTxRequestDescriptor.OFFSET_OFFSET);
                    short flags = (short) I16.get(ring, in + NetifTxRequestDescriptor.FLAGS_OFFSET);
                    short id = (short) I16.get(ring, in + NetifTxRequestDescriptor.ID_OFFSET);
                    short size = (short) I16.get(ring, in + NetifTxRequestDescriptor.SIZE_OFFSET);
                    bytes += Short.toUnsignedInt(size) + ((gref ^ offset ^ flags) & 1);
                    I16.set(ring, out + NetifTxResponseDescriptor.ID_OFFSET, id);
                    I16.set(ring, out + NetifTxResponseDescriptor.STATUS_OFFSET, (short) NetifConstants.NETIF_RSP_OKAY);
                }
                back.consumeRequests(run);
                back.produceResponses(run);
                n -= run;
            }
            if (back.pushResponsesAndCheckNotify() && notifications != null) {
                notifications.notifyPeer();
            }
        }
        return bytes;
    }
}
