package io.backplane.ring.grantcopy;

import io.backplane.api.hypervisor.ShutdownReason;
import io.backplane.guest.sim.SimGuest;
import io.backplane.nativeio.NativeIo;
import io.backplane.ring.FrontRing;
import io.backplane.ring.LegacyRingLayout;
import io.backplane.ring.NetifTxRequest;
import io.backplane.ring.NetifTxResponse;
import io.backplane.ring.layout.SharedRingDescriptor;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.StringJoiner;

/**
 * A guest process playing a netfront TX queue: grants a ring of PAGES pages, a data page the
 * backend may read and a page the backend may write, prints the grant refs, then on "go" sends
 * COUNT requests (every tenth naming a grant ref it never granted) and checks every response.
 * Usage: STATE_DIR DOMID PAGES COUNT. Exit 0 and a last line "done ..." when all is as expected.
 */
public final class TxFrontendMain {
    static final int BAD_REF = 4000;

    private TxFrontendMain() {
    }

    static boolean bad(int seq) {
        return seq % 10 == 9;
    }

    static int offset(int seq) {
        return (seq * 13) % 2048;
    }

    static int size(int seq) {
        return 64 + seq % 512;
    }

    /** The data page's byte at {@code offset}. */
    static byte pattern(int offset) {
        return (byte) (offset * 7 + 3);
    }

    public static void main(String[] args) throws Exception {
        Path stateDir = Path.of(args[0]);
        int domid = Integer.parseInt(args[1]);
        int pages = Integer.parseInt(args[2]);
        int count = Integer.parseInt(args[3]);
        try (SimGuest guest = SimGuest.attach(stateDir, domid, new NativeIo())) {
            long ringFrame = guest.memory().allocPages(pages);
            StringJoiner refs = new StringJoiner(",");
            for (int i = 0; i < pages; i++) {
                refs.add(Integer.toString(guest.grants().grantAccess(0, ringFrame + i, false)));
            }
            long dataFrame = guest.memory().allocPage();
            ByteBuffer data = guest.memory().page(dataFrame);
            for (int i = 0; i < 4096; i++) {
                data.put(i, pattern(i));
            }
            int dataRef = guest.grants().grantAccess(0, dataFrame, true);
            long rxFrame = guest.memory().allocPage();
            int rxRef = guest.grants().grantAccess(0, rxFrame, false);
            FrontRing front = FrontRing.init(guest.memory().pages(ringFrame, pages),
                    LegacyRingLayout.ofPages(pages, SharedRingDescriptor.NETIF_TX_ENTRY_LENGTH));
            System.out.println("ready " + refs + " " + dataRef + " " + rxRef);
            System.out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            if (!"go".equals(in.readLine())) {
                System.err.println("frontend: no go");
                System.exit(3);
            }
            NetifTxRequest req = new NetifTxRequest();
            NetifTxResponse rsp = new NetifTxResponse();
            int sent = 0;
            int answered = 0;
            int errors = 0;
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (answered < count) {
                while (sent < count && !front.isFull()) {
                    req.gref = bad(sent) ? BAD_REF : dataRef;
                    req.offset = offset(sent);
                    req.size = size(sent);
                    req.flags = 0;
                    req.id = sent & 0xffff;
                    front.putRequest(req);
                    sent++;
                }
                front.pushRequests();
                int ready = front.unconsumedResponses();
                for (int i = 0; i < ready; i++) {
                    front.copyResponse(rsp);
                    int expectedStatus = bad(answered) ? -1 : 0;
                    if (rsp.id != (answered & 0xffff) || rsp.status != expectedStatus) {
                        System.err.println("frontend: response " + answered + " was id " + rsp.id + " status " + rsp.status
                                + ", expected id " + (answered & 0xffff) + " status " + expectedStatus);
                        System.exit(1);
                    }
                    errors += rsp.status == 0 ? 0 : 1;
                    answered++;
                }
                if (ready == 0) {
                    if (System.nanoTime() > deadline) {
                        System.err.println("frontend: timed out with " + answered + " of " + count + " answered");
                        System.exit(2);
                    }
                    Thread.onSpinWait();
                }
            }
            // The backend wrote the data it read back, reversed, into the rx page.
            ByteBuffer rx = guest.memory().page(rxFrame);
            for (int i = 0; i < 256; i++) {
                if (rx.get(100 + i) != pattern(255 - i)) {
                    System.err.println("frontend: rx page byte " + (100 + i) + " is " + rx.get(100 + i));
                    System.exit(1);
                }
            }
            System.out.println("done " + answered + " answered, " + errors + " refused");
            guest.shutdown(ShutdownReason.POWEROFF);
        }
    }
}
