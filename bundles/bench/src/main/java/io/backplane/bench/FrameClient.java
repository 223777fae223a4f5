package io.backplane.bench;

import io.backplane.xs.wire.XsWire;

import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

/**
 * The benchmark's client, used unchanged against xenstored and the echo baseline: one request
 * outstanding, written in one write, reply read header first (as libxenstore does).
 */
final class FrameClient implements AutoCloseable {
    private final SocketChannel ch;
    private final ByteBuffer request;
    private final ByteBuffer header = XsWire.newHeader();
    private final ByteBuffer payload = ByteBuffer.allocate(XsWire.PAYLOAD_MAX);

    FrameClient(Path socket, ByteBuffer request) throws IOException {
        this.ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(socket));
        this.request = request;
    }

    /** One round trip; returns the reply type. */
    int roundTrip() throws IOException {
        request.rewind();
        while (request.hasRemaining()) {
            ch.write(request);
        }
        header.clear();
        readFully(header);
        payload.clear().limit(header.getInt(XsWire.LEN_OFFSET));
        readFully(payload);
        return header.getInt(XsWire.TYPE_OFFSET);
    }

    private void readFully(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                throw new EOFException("server closed the connection");
            }
        }
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }
}
