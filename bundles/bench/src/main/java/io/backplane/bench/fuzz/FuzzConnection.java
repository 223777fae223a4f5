package io.backplane.bench.fuzz;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

/**
 * A non-blocking client socket that sends what it is given and throws away whatever comes back,
 * so a fuzzer never stalls on a server that answers, and never waits for one that does not.
 */
final class FuzzConnection implements AutoCloseable {
    private static final long SEND_GIVE_UP_NANOS = 2_000_000_000L;
    private final SocketChannel channel;
    private final ByteBuffer sink = ByteBuffer.allocate(64 * 1024);

    FuzzConnection(Path socket) throws IOException {
        channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            channel.connect(UnixDomainSocketAddress.of(socket));
            channel.configureBlocking(false);
        } catch (IOException e) {
            channel.close();
            throw e;
        }
    }

    /** False when the server closed the connection (or stopped reading it for 2 s). */
    boolean send(ByteBuffer bytes) throws IOException {
        long deadline = System.nanoTime() + SEND_GIVE_UP_NANOS;
        while (bytes.hasRemaining()) {
            if (!drain()) {
                return false;
            }
            if (channel.write(bytes) == 0) {
                if (System.nanoTime() > deadline) {
                    return false;
                }
                Thread.onSpinWait();
            }
        }
        return drain();
    }

    /** Reads and drops what is there; false at end of stream. */
    boolean drain() throws IOException {
        while (true) {
            sink.clear();
            int n = channel.read(sink);
            if (n < 0) {
                return false;
            }
            if (n == 0) {
                return true;
            }
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
