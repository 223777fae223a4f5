package io.backplane.bench;

import io.backplane.ring.BackRing;
import io.backplane.ring.BusyPoll;
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
    private static final VarHandle I64 = MethodHandles.byteBufferViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle I32 = MethodHandles.byteBufferViewVarHandle(int[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

    private TxBackendMain() {
    }

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        int total = Integer.parseInt(args[1]);
        RingLayout layout = args.length > 2 ? layout(args[2]) : layout(0, 1);
        ByteBuffer shared;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            shared = ch.map(FileChannel.MapMode.READ_WRITE, 0, layout.bytes());
        }
        try (Notifications n = args.length > 4 ? new Notifications(args[3], args[4]) : null) {
            long bytes = serve(BackRing.attach(shared, layout), total, System.nanoTime() + 300_000_000_000L, n);
            System.out.println("answered " + total + " bytes " + bytes);
        }
    }

    /** The layout of the C peers' FLAGS argument: ring_layouts.h's flags, optionally {@code @PAGES}. */
    static RingLayout layout(String flagsAtPages) {
        String[] parts = flagsAtPages.split("@", 2);
        return layout(Integer.parseInt(parts[0]), parts.length > 1 ? Integer.parseInt(parts[1]) : 1);
    }

    /** The netif TX ring of {@code pages} pages per direction in the layout of ring_layouts.h's {@code flags}. */
    static RingLayout layout(int flags, int pages) {
        return new RingShape((flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0)
                .layout("netif-tx", pages, NetifTxRequestDescriptor.LENGTH, NetifTxResponseDescriptor.LENGTH);
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
     *
     * <p>Shaped for the JIT as much as for the protocol: each pass (one acquire of req_prod, one
     * batch, one release of rsp_prod) is a call of {@link Pass#step}, the waiting spins in
     * {@link #awaitRequests} and the slot work runs in {@link Pass#answer}. A method called once
     * per pass is compiled by C2 after a few thousand passes, with a profile of the serving path.
     * A single method with the idle loop inside is compiled only through on-stack replacement,
     * late, and possibly while it spins at start, before the serving path has run: JDK 17 then
     * refuses to inline the ring calls it has seen fewer than MinInliningThreshold times, and the
     * whole run pays a call per ring operation.
     */
    static long serve(BackRing back, int total, long deadline, Notifications notifications) {
        Pass pass = new Pass(back);
        int consumed = 0;
        while (consumed < total) {
            consumed += pass.step(consumed, total, deadline, notifications);
        }
        return pass.bytes;
    }

    /** Waits until RING_FINAL_CHECK_FOR_REQUESTS finds requests: sleeping on the FIFO, or spinning. */
    private static void awaitRequests(BackRing back, int consumed, int total, long deadline, Notifications notifications) {
        BusyPoll poll = new BusyPoll();
        while (!back.finalCheckForRequests()) {
            if (notifications != null) {
                notifications.sleep();
            } else if (poll.spin() && System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out after " + consumed + " of " + total + " requests");
            }
        }
    }

    /**
     * One pass over the requests {@link BackRing#unconsumedRequests()} saw: each request copied
     * out once (its 12 bytes as one 8-byte and one 4-byte read, the copy RING_COPY_REQUEST makes),
     * each response written once (id and status as one 4-byte store), in runs split at the ring's
     * wrap. The reads are plain: the acquire of req_prod that counted them orders them (xen_rmb);
     * the release of rsp_prod in pushResponsesAndCheckNotify publishes the writes (xen_wmb).
     */
    static final class Pass {
        private final BackRing back;
        private final ByteBuffer ring;
        private final int mask;
        private final int requestSlots;
        private final int requestStride;
        private final int responseSlots;
        private final int responseStride;
        /** The sum of the requests' sizes (and one bit of their other fields) answered so far. */
        long bytes;

        Pass(BackRing back) {
            RingLayout layout = back.layout();
            this.back = back;
            this.ring = back.buffer();
            this.mask = layout.entries() - 1;
            this.requestSlots = layout.requestSlotsOffset();
            this.requestStride = layout.requestSlotStride();
            this.responseSlots = layout.responseSlotsOffset();
            this.responseStride = layout.responseSlotStride();
        }

        /**
         * One pass: the requests the frontend published, answered and pushed with the notify
         * check, or, when there are none, the wait for more; returns how many were answered.
         */
        int step(int consumed, int total, long deadline, Notifications notifications) {
            int n = back.unconsumedRequests();
            if (n == 0) {
                awaitRequests(back, consumed, total, deadline, notifications);
                return 0;
            }
            bytes += answer(n);
            if (back.pushResponsesAndCheckNotify() && notifications != null) {
                notifications.notifyPeer();
            }
            return n;
        }

        /** Answers the next {@code n} requests, which unconsumedRequests() counted. */
        long answer(int n) {
            long bytes = 0;
            int cons = back.requestConsumer();
            int prod = back.responseProducerPrivate();
            for (int left = n; left > 0; ) {
                int in = cons & mask;
                int out = prod & mask;
                int run = Math.min(left, mask + 1 - Math.max(in, out));
                bytes += run(requestSlots + in * requestStride, responseSlots + out * responseStride, run);
                cons += run;
                prod += run;
                left -= run;
            }
            back.consumeRequests(n);
            back.produceResponses(n);
            return bytes;
        }

        /**
         * Strides as literals, so that {@link #slots} inlined here steps by a constant: a counted
         * loop, which the JIT unrolls and whose bounds checks it hoists (a stride read from a
         * field leaves a check per access). The three cases are every netif TX layout: ring.h and
         * split indexes (12-byte slots shared by request and response), aligned slots (16),
         * separate rings (12-byte requests, 4-byte responses).
         */
        private long run(int in, int out, int count) {
            if (requestStride == 12 && responseStride == 12) {
                return slots(ring, in, out, count, 12, 12);
            } else if (requestStride == 16 && responseStride == 16) {
                return slots(ring, in, out, count, 16, 16);
            } else if (requestStride == 12 && responseStride == 4) {
                return slots(ring, in, out, count, 12, 4);
            }
            return slots(ring, in, out, count, requestStride, responseStride);
        }

        private static long slots(ByteBuffer ring, int in, int out, int count, int requestStride, int responseStride) {
            long bytes = 0;
            // The slot offset is the loop variable (not i * stride: C2 turns * 12 into shifts and
            // adds, and then no longer sees the offset move in step with the loop), so the
            // bounds checks of the request reads are hoisted out of the loop.
            int end = in + count * requestStride;
            // Equal strides: the response lies at a fixed distance from its request, an offset from
            // the loop variable whose bounds check is hoisted too (not so for a second loop variable).
            int rspDelta = out - in;
            for (int slot = in, rsp = out; slot < end; slot += requestStride, rsp += responseStride) {
                // the request's bytes 0-7 (gref, offset, flags) and 8-11 (id, size), read once
                long head = (long) I64.get(ring, slot + NetifTxRequestDescriptor.GREF_OFFSET);
                int tail = (int) I32.get(ring, slot + NetifTxRequestDescriptor.ID_OFFSET);
                int gref = (int) head;
                int offset = (int) (head >>> 8 * (NetifTxRequestDescriptor.OFFSET_OFFSET - NetifTxRequestDescriptor.GREF_OFFSET)) & 0xffff;
                int flags = (int) (head >>> 8 * (NetifTxRequestDescriptor.FLAGS_OFFSET - NetifTxRequestDescriptor.GREF_OFFSET)) & 0xffff;
                int id = tail & 0xffff;
                int size = (tail >>> 8 * (NetifTxRequestDescriptor.SIZE_OFFSET - NetifTxRequestDescriptor.ID_OFFSET)) & 0xffff;
                bytes += size + ((gref ^ offset ^ flags) & 1);
                I32.set(ring, (requestStride == responseStride ? slot + rspDelta : rsp) + NetifTxResponseDescriptor.ID_OFFSET,
                        id | (NetifConstants.NETIF_RSP_OKAY & 0xffff) << 8 * (NetifTxResponseDescriptor.STATUS_OFFSET - NetifTxResponseDescriptor.ID_OFFSET));
            }
            return bytes;
        }
    }
}
