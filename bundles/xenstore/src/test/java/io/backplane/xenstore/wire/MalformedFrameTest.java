package io.backplane.xenstore.wire;

import io.backplane.api.xenstore.XsPerm;
import io.backplane.xs.client.SocketXenStore;
import io.backplane.xs.wire.XsWire;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Bad frames get C xenstored's error reply or lose only their own connection. */
class MalformedFrameTest {
    private DaemonFixture xs;
    private SocketXenStore bystander;

    @BeforeEach
    void start() throws Exception {
        xs = new DaemonFixture();
        bystander = new SocketXenStore(xs.socket());
        bystander.write("/ok", "still-served");
    }

    @AfterEach
    void stop() throws Exception {
        bystander.close();
        xs.close();
    }

    /** A raw xs_wire connection that sends whatever bytes the test wants. */
    private static final class Raw implements AutoCloseable {
        final SocketChannel ch;

        Raw(Path socket) throws IOException {
            ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            ch.connect(UnixDomainSocketAddress.of(socket));
        }

        void send(int type, int reqId, int txId, int len, byte[] payload) throws IOException {
            ByteBuffer b = XsWire.newHeader();
            b.putInt(type).putInt(reqId).putInt(txId).putInt(len).flip();
            ch.write(b);
            if (payload.length > 0) {
                ch.write(ByteBuffer.wrap(payload));
            }
        }

        void send(int type, byte[] payload) throws IOException {
            send(type, 7, 0, payload.length, payload);
        }

        /** Type and payload of the next frame, or null when the daemon closed the connection. */
        String[] receive() throws IOException {
            ByteBuffer h = XsWire.newHeader();
            while (h.hasRemaining()) {
                if (ch.read(h) < 0) {
                    return null;
                }
            }
            ByteBuffer p = ByteBuffer.allocate(h.getInt(XsWire.LEN_OFFSET));
            while (p.hasRemaining()) {
                if (ch.read(p) < 0) {
                    return null;
                }
            }
            String text = new String(p.array(), StandardCharsets.UTF_8).replace('\0', '|');
            return new String[] {XsWire.typeName(h.getInt(XsWire.TYPE_OFFSET)), text, Integer.toString(h.getInt(XsWire.REQ_ID_OFFSET))};
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }

    private static byte[] bytes(String s) {
        return s.replace('|', '\0').getBytes(StandardCharsets.UTF_8);
    }

    private void assertBystanderServed() {
        assertThat(bystander.read("/ok")).isEqualTo("still-served");
    }

    @Test
    void errorRepliesForBadRequestsKeepTheConnection() throws Exception {
        try (Raw raw = new Raw(xs.socket())) {
            raw.send(99, bytes("x|"));
            assertThat(raw.receive()).containsExactly("ERROR", "ENOSYS|", "7");
            raw.send(XsWire.WATCH_EVENT, bytes("/a|t|"));
            assertThat(raw.receive()).containsExactly("ERROR", "ENOSYS|", "7");
            raw.send(XsWire.READ, bytes("/ok"));  // path without its NUL
            assertThat(raw.receive()).containsExactly("ERROR", "EINVAL|", "7");
            raw.send(XsWire.WRITE, bytes("/no-nul-anywhere"));
            assertThat(raw.receive()).containsExactly("ERROR", "EINVAL|", "7");
            raw.send(XsWire.READ, bytes("/bad*chars|"));
            assertThat(raw.receive()).containsExactly("ERROR", "EINVAL|", "7");
            raw.send(XsWire.READ, bytes("/a//b|"));
            assertThat(raw.receive()).containsExactly("ERROR", "EINVAL|", "7");
            raw.send(XsWire.WATCH, bytes("/only-path|"));
            assertThat(raw.receive()).containsExactly("ERROR", "EINVAL|", "7");
            raw.send(XsWire.READ, 7, 42, 4, bytes("/ok|")); // unknown transaction
            assertThat(raw.receive()).containsExactly("ERROR", "ENOENT|", "7");
            raw.send(XsWire.TRANSACTION_END, bytes("X|"));
            assertThat(raw.receive()).containsExactly("ERROR", "EINVAL|", "7");
            raw.send(XsWire.SET_PERMS, bytes("/ok|q7|"));
            assertThat(raw.receive()).containsExactly("ERROR", "EINVAL|", "7");
            raw.send(XsWire.READ, bytes("/ok|"));
            assertThat(raw.receive()).containsExactly("READ", "still-served", "7");
        }
        assertBystanderServed();
    }

    @Test
    void oversizedFrameClosesOnlyThatConnection() throws Exception {
        try (Raw raw = new Raw(xs.socket())) {
            raw.send(XsWire.WRITE, 1, 0, XsWire.PAYLOAD_MAX + 1, new byte[0]);
            assertThat(raw.receive()).isNull();
        }
        try (Raw raw = new Raw(xs.socket())) {
            raw.send(XsWire.READ, 1, 0, -1, new byte[0]); // 4 GiB as u32
            assertThat(raw.receive()).isNull();
        }
        assertBystanderServed();
    }

    @Test
    void truncatedHeaderAndPayloadDoNotDisturbOthers() throws Exception {
        try (Raw raw = new Raw(xs.socket())) {
            raw.ch.write(ByteBuffer.wrap(new byte[] {2, 0, 0, 0, 0, 0}));
            assertBystanderServed(); // served while that frame hangs half-sent
        }
        try (Raw raw = new Raw(xs.socket())) {
            raw.send(XsWire.READ, 1, 0, 100, bytes("/ok|"));
            assertBystanderServed();
        }
        assertBystanderServed();
    }

    @Test
    void floodsOfWatchesAndTransactionsFromAGuestHitTheirLimits() throws Exception {
        bystander.introduceDomain(5, 1, 1);
        bystander.mkdir("/local/domain/5");
        bystander.setPerms("/local/domain/5", List.of(XsPerm.none(5)));
        try (Raw raw = new Raw(XenStoreDaemon.domainSocket(xs.stateDir, 5))) {
            int ok = 0;
            String[] r;
            do {
                raw.send(XsWire.WATCH, bytes("w" + ok + "|tok|"));
                r = raw.receive();
                if (r[0].equals("WATCH")) {
                    ok++;
                    assertThat(raw.receive()).containsExactly("WATCH_EVENT", "w" + (ok - 1) + "|tok|", "0");
                }
            } while (r[0].equals("WATCH") && ok < 1000);
            assertThat(r).containsExactly("ERROR", "E2BIG|", "7");
            assertThat(ok).isEqualTo(129);

            int txs = 0;
            do {
                raw.send(XsWire.TRANSACTION_START, bytes("|"));
                r = raw.receive();
                if (r[0].equals("TRANSACTION_START")) {
                    txs++;
                }
            } while (r[0].equals("TRANSACTION_START") && txs < 1000);
            assertThat(r).containsExactly("ERROR", "ENOSPC|", "7");
            assertThat(txs).isEqualTo(11);

            raw.send(XsWire.RESET_WATCHES, bytes(""));
            assertThat(raw.receive()).containsExactly("RESET_WATCHES", "OK|", "7");
            raw.send(XsWire.TRANSACTION_START, bytes("|"));
            assertThat(raw.receive()[0]).isEqualTo("TRANSACTION_START");
        }
        assertBystanderServed();
    }
}
