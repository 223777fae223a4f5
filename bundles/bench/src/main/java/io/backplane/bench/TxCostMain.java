package io.backplane.bench;

import io.backplane.ring.BackRing;
import io.backplane.ring.FrontRing;
import io.backplane.ring.RingLayout;
import io.backplane.ring.layout.NetifTxRequestDescriptor;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The Java side of the ring benchmark's cost measurement, ring-core's netback_cost.c in Java:
 * what {@link TxBackendMain}'s pass costs per request in one thread, the ring in its cache. The
 * thread publishes req_prod over BATCH requests laid out once, then runs the backend's pass
 * ({@link TxBackendMain.Pass#step}: unconsumedRequests, the slots, the push with its notify check).
 * Times CHUNKS chunks of PASSES passes, ROUNDS times (the JIT compiles during the first rounds),
 * and prints the best chunk of the last round.
 *
 * <p>Usage: {@code TxCostMain BATCH CHUNKS PASSES ROUNDS}; prints {@code ns_per_request N sum SUM}.
 */
public final class TxCostMain {

    private static final VarHandle REQ_PROD = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    private TxCostMain() {
    }

    /** Best nanoseconds per request of the last round, and the sum of every request's fields as read. */
    record Result(double nsPerRequest, long sum) {
    }

    public static void main(String[] args) {
        Result r = measure(Integer.parseInt(args[0]), Integer.parseInt(args[1]), Integer.parseInt(args[2]),
                Integer.parseInt(args[3]));
        System.out.printf("ns_per_request %.3f sum %d%n", r.nsPerRequest(), r.sum());
    }

    static Result measure(int batch, int chunks, int passes, int rounds) {
        RingLayout layout = TxBackendMain.layout(0, 1);
        if (batch <= 0 || batch > layout.entries() || chunks <= 0 || passes <= 0 || rounds <= 0) {
            throw new IllegalArgumentException("usage: TxCostMain BATCH(1.." + layout.entries() + ") CHUNKS PASSES ROUNDS");
        }
        ByteBuffer ring = ByteBuffer.allocateDirect(layout.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        FrontRing.init(ring, layout);
        for (int seq = 0; seq < layout.entries(); seq++) {
            fill(ring, layout.requestSlotsOffset() + seq * layout.requestSlotStride(), seq);
        }
        BackRing back = BackRing.attach(ring, layout);
        TxBackendMain.Pass pass = new TxBackendMain.Pass(back);
        double best = 0;
        int published = 0;
        for (int round = 0; round < rounds; round++) {
            best = Double.MAX_VALUE;
            for (int c = 0; c < chunks; c++) {
                long start = System.nanoTime();
                for (int p = 0; p < passes; p++) {
                    published += batch;
                    // the frontend's publish, in this same thread: no ordering needed
                    REQ_PROD.set(ring, layout.requestProducerOffset(), published);
                    pass.step(0, Integer.MAX_VALUE, Long.MAX_VALUE, null);
                }
                best = Math.min(best, (System.nanoTime() - start) / ((double) passes * batch));
            }
        }
        return new Result(best, pass.bytes);
    }

    /** tx_pattern.h's tx_pattern_fill. */
    private static void fill(ByteBuffer ring, int slot, int seq) {
        ring.putInt(slot + NetifTxRequestDescriptor.GREF_OFFSET, seq * 0x9e3779b1);
        ring.putShort(slot + NetifTxRequestDescriptor.OFFSET_OFFSET, (short) ((seq * 13) & 0xfff));
        ring.putShort(slot + NetifTxRequestDescriptor.FLAGS_OFFSET, (short) ((seq >> 4) & 0xf));
        ring.putShort(slot + NetifTxRequestDescriptor.ID_OFFSET, (short) seq);
        ring.putShort(slot + NetifTxRequestDescriptor.SIZE_OFFSET, (short) (seq * 7 + 60));
    }
}
