package io.backplane.ring;

import io.backplane.ring.layout.NetifConstants;
import io.backplane.ring.layout.SharedRingDescriptor;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * A netif TX frontend in its own JVM, for the cross-process test: initialises the ring in a
 * shared file, prints "ready", pushes {@code total} requests of {@link TxPattern} in batches and
 * checks every response (id in order, NETIF_RSP_OKAY). Prints one summary line and exits 0, or
 * names the first bad response on stderr and exits 2.
 *
 * <p>Usage: {@code NetifTxFrontendMain FILE TOTAL BATCH}
 */
public final class NetifTxFrontendMain {

    private NetifTxFrontendMain() {
    }

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        int total = Integer.parseInt(args[1]);
        int batch = Integer.parseInt(args[2]);
        LegacyRingLayout layout = LegacyRingLayout.ofPages(1, SharedRingDescriptor.NETIF_TX_ENTRY_LENGTH);
        ByteBuffer shared = SharedMemoryFile.map(file, layout.bytes());
        FrontRing front = FrontRing.init(shared, layout);
        System.out.println("ready");
        System.out.flush();

        NetifTxRequest req = new NetifTxRequest();
        NetifTxResponse rsp = new NetifTxResponse();
        int sent = 0;
        int answered = 0;
        long notifies = 0;
        long idle = 0;
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (answered < total) {
            int want = Math.min(batch, total - sent);
            if (want > 0 && front.freeRequests() >= want) {
                for (int i = 0; i < want; i++) {
                    TxPattern.fill(req, sent++);
                    front.putRequest(req);
                }
                if (front.pushRequestsAndCheckNotify()) {
                    notifies++;
                }
            }
            int n = front.unconsumedResponses();
            if (n == 0 && !front.finalCheckForResponses()) {
                if ((++idle & 0xfff) == 0) {
                    if (System.nanoTime() > deadline) {
                        System.err.println("timed out with " + answered + " of " + total + " answered");
                        System.exit(3);
                    }
                    Thread.yield();
                }
                Thread.onSpinWait();
                continue;
            }
            n = front.unconsumedResponses();
            for (int i = 0; i < n; i++) {
                front.copyResponse(rsp);
                if (rsp.id != TxPattern.id(answered) || rsp.status != NetifConstants.NETIF_RSP_OKAY) {
                    System.err.println("response " + answered + " is " + rsp + ", expected id " + TxPattern.id(answered)
                            + " status " + NetifConstants.NETIF_RSP_OKAY);
                    System.exit(2);
                }
                answered++;
            }
        }
        System.out.println("sent " + sent + " answered " + answered + " notifies " + notifies);
    }
}
