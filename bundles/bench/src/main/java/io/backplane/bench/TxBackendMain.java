package io.backplane.bench;

import io.backplane.ring.BackRing;
import io.backplane.ring.LegacyRingLayout;
import io.backplane.ring.layout.NetifConstants;
import io.backplane.ring.layout.NetifTxRequestDescriptor;
import io.backplane.ring.layout.NetifTxResponseDescriptor;
import io.backplane.ring.layout.SharedRingDescriptor;
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
 * wrap point, fields at descriptor offsets), the fast path a strategy would take.
 *
 * <p>Usage: {@code TxBackendMain FILE TOTAL}; prints {@code answered TOTAL bytes SUM}.
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
        LegacyRingLayout layout = LegacyRingLayout.ofPages(1, SharedRingDescriptor.NETIF_TX_ENTRY_LENGTH);
        ByteBuffer shared;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            shared = ch.map(FileChannel.MapMode.READ_WRITE, 0, layout.bytes());
        }
        long bytes = serve(BackRing.attach(shared, layout), total, System.nanoTime() + 300_000_000_000L);
        System.out.println("answered " + total + " bytes " + bytes);
    }

    /**
     * Answers {@code total} requests; returns the sum of their sizes (plus one bit of the other
     * fields), so every field read is used. Gives up when idle past {@code deadline} ({@link System#nanoTime()}).
     */
    static long serve(BackRing back, int total, long deadline) {
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
            back.pushResponsesAndCheckNotify();
        }
        return bytes;
    }
}
