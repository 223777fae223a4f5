package io.backplane.netback;

import io.backplane.ring.BackRing;
import io.backplane.ring.LegacyRingLayout;
import io.backplane.ring.NetifRxRequest;
import io.backplane.ring.NetifRxResponse;
import io.backplane.ring.NetifTxRequest;
import io.backplane.ring.NetifTxResponse;
import io.backplane.ring.RingEntry;
import io.backplane.ring.layout.NetifConstants;
import io.backplane.ring.layout.SharedRingDescriptor;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A backend process for {@link NetCrashReattachTest} killed at the worst moment: it re-attaches
 * to a live one-page TX ring and RX ring with their request mirrors as netback does
 * ({@code BackRing.open}), takes what the frontend published on each (all but the last two),
 * writes a response over each slot it took (a TX answer per slot; an RX answer claiming a
 * 60-byte frame in each posted buffer) and publishes nothing; then it says so and waits for
 * its SIGKILL.
 *
 * <pre>DyingNetback MEMORY_FILE TX_RING_OFFSET TX_MIRROR RX_RING_OFFSET RX_MIRROR</pre>
 */
public final class DyingNetback {

    private DyingNetback() {
    }

    public static void main(String[] args) throws Exception {
        BackRing tx = open(Path.of(args[0]), Long.parseLong(args[1]), SharedRingDescriptor.NETIF_TX_ENTRY_LENGTH, Path.of(args[2]));
        BackRing rx = open(Path.of(args[0]), Long.parseLong(args[3]), SharedRingDescriptor.NETIF_RX_ENTRY_LENGTH, Path.of(args[4]));
        // The guest goes on sending and posting buffers; a guest that is done sending leaves the TX
        // ring empty, and then only RX is taken (the test then fails on its own count, not here).
        for (long end = System.nanoTime() + 20_000_000_000L; (tx.unconsumedRequests() < 4 || rx.unconsumedRequests() < 4)
                && System.nanoTime() < end; ) {
            Thread.sleep(1);
        }
        int txRsp = tx.responseProducerPrivate();
        int rxRsp = rx.responseProducerPrivate();
        NetifTxRequest txReq = new NetifTxRequest();
        NetifTxResponse txAns = new NetifTxResponse();
        int txTook = take(tx, txReq, () -> {
            txAns.id = txReq.id;
            txAns.status = NetifConstants.NETIF_RSP_OKAY;
            return txAns;
        });
        NetifRxRequest rxReq = new NetifRxRequest();
        NetifRxResponse rxAns = new NetifRxResponse();
        int rxTook = take(rx, rxReq, () -> {
            rxAns.id = rxReq.id;
            rxAns.offset = 0;
            rxAns.flags = 0;
            rxAns.status = 60;
            return rxAns;
        });
        System.out.println("tx took " + txTook + " after rsp_prod " + Integer.toUnsignedString(txRsp) + ", rx took " + rxTook
                + " after rsp_prod " + Integer.toUnsignedString(rxRsp) + ", answered all, published none");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }

    private static BackRing open(Path memory, long offset, int entryLength, Path mirror) throws Exception {
        ByteBuffer page;
        try (FileChannel ch = FileChannel.open(memory, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            page = ch.map(FileChannel.MapMode.READ_WRITE, offset, SharedRingDescriptor.XEN_PAGE_SIZE);
        }
        return BackRing.open(page, LegacyRingLayout.ofPages(1, entryLength), mirror, true);
    }

    /** Takes all but the last two requests, writing an answer over each slot taken (rsp_prod not moved). */
    private static int take(BackRing ring, RingEntry request, java.util.function.Supplier<RingEntry> answer) {
        int took = Math.max(0, ring.unconsumedRequests() - 2);
        for (int i = 0; i < took; i++) {
            ring.copyRequest(request);
            ring.putResponse(answer.get());
        }
        return took;
    }
}
