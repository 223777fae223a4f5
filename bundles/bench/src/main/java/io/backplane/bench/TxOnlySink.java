package io.backplane.bench;

import io.backplane.api.sink.PacketSink;

import java.nio.ByteBuffer;

/**
 * A bench's host end that only takes frames from the guest: nothing ever comes from the host
 * side, offloads are accepted as offered, and there is nothing to close.
 */
abstract class TxOnlySink implements PacketSink {

    @Override
    public int receive(ByteBuffer frame, int timeoutMillis) {
        return awaitFrame(timeoutMillis);
    }

    /** Nothing ever comes from the host side: waits out the timeout. */
    @Override
    public int awaitFrame(int timeoutMillis) {
        try {
            Thread.sleep(timeoutMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
        return 0;
    }

    @Override
    public void acceptOffloads(boolean checksum, boolean tcpv4, boolean tcpv6) {
    }

    @Override
    public void close() {
    }
}
