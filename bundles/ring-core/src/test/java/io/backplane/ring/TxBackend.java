package io.backplane.ring;

import io.backplane.ring.layout.NetifConstants;

/**
 * The Java netif TX backend of the cross-process tests: copies each request out once, checks
 * every field against {@link TxPattern}, answers OKAY or ERROR, pushes the responses, and before
 * idling does the final check that re-arms req_event. Stops when the frontend process dies.
 */
final class TxBackend {

    record Result(int consumed, int bad, long notifies) {
    }

    private TxBackend() {
    }

    static Result serve(BackRing back, int total, Process frontend, long timeoutNanos) {
        NetifTxRequest req = new NetifTxRequest();
        NetifTxResponse rsp = new NetifTxResponse();
        int consumed = 0;
        int bad = 0;
        long notifies = 0;
        long idle = 0;
        long deadline = System.nanoTime() + timeoutNanos;
        while (consumed < total) {
            int n = back.unconsumedRequests();
            if (n == 0) {
                if (back.finalCheckForRequests()) {
                    continue;
                }
                if ((++idle & 0xfff) == 0) {
                    if (!frontend.isAlive()) {
                        throw new AssertionError("frontend exited with " + frontend.exitValue() + " after "
                                + consumed + " requests");
                    }
                    if (System.nanoTime() > deadline) {
                        throw new AssertionError("timed out after " + consumed + " of " + total + " requests");
                    }
                    Thread.yield();
                }
                Thread.onSpinWait();
                continue;
            }
            for (int i = 0; i < n; i++) {
                back.copyRequest(req);
                boolean ok = TxPattern.matches(req, consumed);
                if (!ok) {
                    bad++;
                }
                rsp.id = req.id;
                rsp.status = ok ? NetifConstants.NETIF_RSP_OKAY : NetifConstants.NETIF_RSP_ERROR;
                back.putResponse(rsp);
                consumed++;
            }
            if (back.pushResponsesAndCheckNotify()) {
                notifies++;
            }
        }
        return new Result(consumed, bad, notifies);
    }
}
