package io.backplane.hypervisor.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.hypervisor.DomainState;
import io.backplane.api.hypervisor.EventChannel;
import io.backplane.guest.sim.SimGuest;
import io.backplane.hypervisor.sim.abi.EvtchnWire;
import io.backplane.nativeio.NativeIo;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A guest that abuses its event channel socket hurts only itself; dom0 never waits on it. */
class MisbehavingGuestTest {
    @TempDir
    static Path dir;
    static SimFixture fx;

    @BeforeAll
    static void start() throws Exception {
        fx = new SimFixture(new NativeIo(), dir);
    }

    @AfterAll
    static void stop() {
        fx.close();
    }

    @Test
    void aGuestThatFloodsRequestsAndNeverReadsLosesItsConnectionOnly() throws Exception {
        int bad = fx.create("flooder", 8).domid();
        int good = fx.create("bystander", 8).domid();
        try (SimGuest bystander = fx.attach(good);
             SocketChannel raw = SocketChannel.open(StandardProtocolFamily.UNIX);
             SocketChannel stream = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            raw.connect(UnixDomainSocketAddress.of(fx.sim.paths().evtchnSocket(bad)));
            attachStream(raw, stream, bad);
            int port = request(raw, EvtchnWire.OP_BIND_UNBOUND, 0, 0);
            EventChannel dom0End = fx.sim.bindInterdomain(bad, port, ch -> { });

            // Requests whose replies it never reads: CLOSE of a port it does not have, over and over.
            ByteBuffer msg = message(EvtchnWire.OP_CLOSE, 4000, 0);
            raw.configureBlocking(false);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            boolean dropped = false;
            while (!dropped && System.nanoTime() < deadline) {
                msg.rewind();
                try {
                    raw.write(msg);
                } catch (IOException e) {
                    dropped = true; // the hypervisor closed the connection
                }
                long t = System.nanoTime();
                dom0End.notifyRemote();               // dom0 must never block on this guest
                assertThat(System.nanoTime() - t).isLessThan(TimeUnit.SECONDS.toNanos(1));
            }
            assertThat(dropped).as("the flooding guest's connection was closed").isTrue();
            RingAcceptanceTest.waitFor(() -> fx.sim.info(bad).orElseThrow().state() == DomainState.SHUTDOWN);

            BlockingQueue<Integer> events = new LinkedBlockingQueue<>();
            EventChannel g = bystander.eventChannels().allocUnbound(0, ch -> events.add(ch.port()));
            EventChannel d = fx.sim.bindInterdomain(good, g.port(), ch -> { });
            d.notifyRemote();
            assertThat(events.poll(5, TimeUnit.SECONDS)).as("the other guest is served as before").isEqualTo(g.port());
            d.close();
            dom0End.close();
        }
    }

    @Test
    void unknownOpsAndBadPortsGetErrorRepliesNotACrash() throws Exception {
        int domid = fx.create("garbage", 8).domid();
        try (SocketChannel raw = SocketChannel.open(StandardProtocolFamily.UNIX);
             SocketChannel stream = SocketChannel.open(StandardProtocolFamily.UNIX);
             SocketChannel intruder = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            raw.connect(UnixDomainSocketAddress.of(fx.sim.paths().evtchnSocket(domid)));
            assertThat(request(raw, 99, 0, 0)).isEqualTo(-38);                                   // ENOSYS
            assertThat(request(raw, 4, 1, 0)).as("UNMASK is no request any more").isEqualTo(-38);
            assertThat(request(raw, EvtchnWire.OP_BIND_UNBOUND, 0, 0)).isEqualTo(-107);           // no stream: ENOTCONN
            int token = attachStream(raw, stream, domid);
            intruder.connect(UnixDomainSocketAddress.of(fx.sim.paths().evtchnSocket(domid)));
            assertThat(request(intruder, EvtchnWire.OP_ATTACH_STREAM, 0, token)).as("a token is one-time").isEqualTo(-22);
            assertThat(request(raw, EvtchnWire.OP_STREAM_TOKEN, 0, 0)).as("one stream per connection").isEqualTo(-22);
            assertThat(request(raw, EvtchnWire.OP_BIND_INTERDOMAIN, 0, 0)).isEqualTo(-22);        // port 0: EINVAL
            assertThat(request(raw, EvtchnWire.OP_BIND_INTERDOMAIN, 5, 31000)).isEqualTo(-3);     // no domain: ESRCH
            assertThat(request(raw, EvtchnWire.OP_CLOSE, -1, 0)).isEqualTo(-22);
            raw.write(message(EvtchnWire.OP_NOTIFY, 77, 0));                                      // async error reply
            ByteBuffer reply = read(raw);
            assertThat(reply.getInt(0)).isEqualTo(EvtchnWire.OP_NOTIFY | EvtchnWire.REPLY);
            assertThat(reply.getInt(12)).isEqualTo(-22);
            assertThat(request(raw, EvtchnWire.OP_BIND_UNBOUND, 0, 0)).isEqualTo(1);             // still served
        }
    }

    /** Joins {@code stream} to the control connection {@code raw} as its event stream; returns the used token. */
    static int attachStream(SocketChannel raw, SocketChannel stream, int domid) throws IOException {
        int token = request(raw, EvtchnWire.OP_STREAM_TOKEN, 0, 0);
        assertThat(token).isPositive();
        stream.connect(UnixDomainSocketAddress.of(fx.sim.paths().evtchnSocket(domid)));
        assertThat(request(stream, EvtchnWire.OP_ATTACH_STREAM, 0, token)).isZero();
        return token;
    }

    static ByteBuffer message(int op, int port, int arg) {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(op).putInt(port).putInt(arg).putInt(0).flip();
        return b;
    }

    static int request(SocketChannel ch, int op, int port, int arg) throws IOException {
        ch.write(message(op, port, arg));
        ByteBuffer reply = read(ch);
        assertThat(reply.getInt(0)).isEqualTo(op | EvtchnWire.REPLY);
        return reply.getInt(12);
    }

    static ByteBuffer read(SocketChannel ch) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                throw new IOException("closed");
            }
        }
        return b.flip();
    }
}
