package io.backplane.blkback;

import io.backplane.ring.BackRing;
import io.backplane.ring.BlkifRequest;
import io.backplane.ring.BlkifResponse;
import io.backplane.ring.LegacyRingLayout;
import io.backplane.ring.RingLayout;
import io.backplane.ring.layout.BlkifConstants;
import io.backplane.ring.layout.SharedRingDescriptor;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A backend process for {@link BlkCrashReattachTest} that is killed at the worst moment: it
 * re-attaches to a live one-page blkif ring with its request mirror as blkback does
 * ({@code BackRing.open}), takes the requests the frontend published (all but the last two; all
 * of them when the hand-over left only a batch's last one to three, which the frontend waits for),
 * writes a response into the slots of all of them but the last (over the requests, as ring.h
 * lays them out) and publishes nothing. Then it says so on stdout and waits for its SIGKILL.
 *
 * <pre>DyingBlkback MEMORY_FILE MIRROR_FILE</pre>
 */
public final class DyingBlkback {

    private DyingBlkback() {
    }

    public static void main(String[] args) throws Exception {
        RingLayout layout = LegacyRingLayout.ofPages(1, SharedRingDescriptor.BLKIF_ENTRY_LENGTH);
        ByteBuffer page;
        try (FileChannel memory = FileChannel.open(Path.of(args[0]), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            page = memory.map(FileChannel.MapMode.READ_WRITE, 0, SharedRingDescriptor.XEN_PAGE_SIZE); // frame 0: the ring
        }
        BackRing ring = BackRing.open(page, layout, Path.of(args[1]), true);
        int available;
        long end = System.nanoTime() + 20_000_000_000L;
        int seen = -1;
        long seenSince = System.nanoTime();
        while ((available = ring.unconsumedRequests()) < 4) {
            if (available != seen) {
                seen = available;
                seenSince = System.nanoTime();
            } else if (available > 0 && System.nanoTime() - seenSince > 2_000_000_000L) {
                break;                            // the tail of a batch the hand-over left: the frontend waits for it
            }
            if (System.nanoTime() > end) {
                System.out.println("no batch of requests within 20 s: " + available + " published");
                return;                           // the test fails on this line, rather than waiting forever
            }
            Thread.sleep(1);                     // the frontend publishes its next batch
        }
        int rspProd = ring.responseProducerPrivate();
        // Two left unconsumed for the adopter when there are enough; a tail is taken whole.
        int take = available >= 4 ? available - 2 : available;
        BlkifRequest request = new BlkifRequest();
        BlkifResponse response = new BlkifResponse();
        for (int i = 0; i < take; i++) {
            ring.copyRequest(request);
            if (i < take - 1) {
                response.id = request.id();
                response.operation = request.operation();
                response.status = BlkifConstants.BLKIF_RSP_OKAY;
                ring.putResponse(response);    // no pushResponses(): rsp_prod stays where it was
            }
        }
        System.out.println("took " + take + " of " + available + " requests after rsp_prod " + Integer.toUnsignedString(rspProd)
                + ", wrote " + (take - 1) + " responses, published none");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
