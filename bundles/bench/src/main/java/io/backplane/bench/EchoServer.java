package io.backplane.bench;

import io.backplane.xs.wire.XsWire;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The floor any xenstored pays: a Unix-socket server with xenstored's threading (one thread per
 * connection, blocking reads) that reads a framed request and answers with a reply of the size
 * the real daemon would send, doing no other work.
 */
final class EchoServer implements AutoCloseable {
    private final ServerSocketChannel server;
    private final Path path;
    private final int replyPayload;

    EchoServer(Path path, int replyPayload) throws IOException {
        this.path = path;
        this.replyPayload = replyPayload;
        Files.deleteIfExists(path);
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        Thread acceptor = new Thread(this::acceptLoop, "echo-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            try {
                SocketChannel ch = server.accept();
                Thread t = new Thread(() -> serve(ch), "echo-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(SocketChannel ch) {
        ByteBuffer header = XsWire.newHeader();
        ByteBuffer payload = ByteBuffer.allocate(XsWire.PAYLOAD_MAX);
        try (ch) {
            while (true) {
                header.clear();
                if (!readFully(ch, header)) {
                    return;
                }
                payload.clear().limit(header.getInt(XsWire.LEN_OFFSET));
                readFully(ch, payload);
                ByteBuffer reply = ByteBuffer.allocate(XsWire.HEADER_LENGTH + replyPayload).order(XsWire.ORDER);
                reply.put(header.array()).putInt(XsWire.LEN_OFFSET, replyPayload).position(0);
                while (reply.hasRemaining()) {
                    ch.write(reply);
                }
            }
        } catch (IOException e) {
            // client gone
        }
    }

    private static boolean readFully(SocketChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() throws IOException {
        server.close();
        Files.deleteIfExists(path);
    }
}
