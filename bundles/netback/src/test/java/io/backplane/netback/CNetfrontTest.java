package io.backplane.netback;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.device.DeviceId;
import io.backplane.api.sink.SinkRequest;
import io.backplane.netback.sink.MemorySink;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A netfront in C (src/main/c/netfront_pages.c, built here with gcc against Xen's ring.h,
 * netif.h and libxenstore, from docs/netback.md's key table) connects multi-page rings to
 * netback in the sim: every TX frame reaches the sink byte for byte and in order, every RX frame
 * injected at the sink is checked byte for byte by the C program.
 */
class CNetfrontTest {
    static final int COUNT = 20_000;
    static final int RX_COUNT = 3_000;
    SimNet net;
    NetbackBus bus;
    final Map<String, MemorySink> sinks = new ConcurrentHashMap<>();

    @BeforeEach
    void start() throws Exception {
        net = new SimNet();
        bus = new NetbackBus(net.xs, new NetbackDriver(RealRings.grantCopy(net.sim), net.sim,
                (SinkRequest r) -> sinks.computeIfAbsent(r.name(), n -> new MemorySink(n, false, "test", 1 << 15)),
                NetbackDriver.Settings.defaults()));
    }

    @AfterEach
    void stop() throws Exception {
        bus.close();
        net.close();
    }

    /** The C program's frame {@code seq}: see netfront_pages.c. */
    static byte[] frame(long seq) {
        int len = (int) (60 + (seq * 97) % 1455);
        ByteBuffer b = ByteBuffer.allocate(len);
        b.put(new byte[] {-1, -1, -1, -1, -1, -1, 0x00, 0x16, 0x3e, 0x40, 0x00, 0x01}).putShort((short) 0x88B5);
        b.putInt((int) seq).putShort((short) len);
        for (int i = 20; i < len; i++) {
            b.put((byte) (seq * 31 + i));
        }
        return b.array();
    }

    @Test
    void aCNetfrontOnFourPageRingsExchangesEveryFrameWithNetback() throws Exception {
        Path binary = compile("netfront_pages");
        int domid = net.createDomain("c-netfront");
        bus.offer(domid, 0, 1, Map.of("max-ring-page-order", "2"));
        DeviceId id = net.addVif(domid, 0, "00:16:3e:40:00:01", "xenbr0", null);
        Path log = net.stateDir.resolve("c-netfront.log");
        Process c = new ProcessBuilder(List.of(binary.toString(), net.stateDir.toString(), Integer.toString(domid),
                "4", Integer.toString(COUNT), Integer.toString(RX_COUNT))).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        try {
            assertThat(SimNet.await(20, () -> "4".equals(net.read(id.backendPath() + "/state"))))
                    .as("connected; %s", Files.readString(log)).isTrue();
            assertThat(net.read(id.frontendPath() + "/ring-page-order")).as("min(own 4, offered 2)").isEqualTo("2");
            assertThat(net.read(id.frontendPath() + "/tx-ring-ref3")).isNotEmpty();
            assertThat(bus.status(id)).containsEntry("ring-page-order", "2").containsEntry("queue-0/ring-page-order", "2");

            MemorySink sink = sinks.get("vif" + domid + ".0");
            for (long seq = 0; seq < COUNT; seq++) {
                byte[] f = sink.takeTransmitted(10_000);
                assertThat(f).as("frame %d; %s", seq, Files.readString(log)).isNotNull();
                assertThat(f).as("frame %d", seq).isEqualTo(frame(seq));
            }
            assertThat(SimNet.await(20, () -> net.read(id.frontendPath() + "/c-tx-done").equals(Integer.toString(COUNT))))
                    .as(Files.readString(log)).isTrue();
            // Idle (a grant copy in flight pins its grant too): only the ring pages stay mapped.
            assertThat(SimNet.await(5, () -> net.sim.pinnedGrants(domid) == 8)).as("4 TX and 4 RX ring pages pinned, not %d",
                    net.sim.pinnedGrants(domid)).isTrue();
            for (long seq = 0; seq < RX_COUNT; seq++) {
                byte[] f = frame(100_000 + seq);
                // The sink's bounded queue: wait for room rather than drop.
                for (int tries = 0; !sink.inject(f); tries++) {
                    assertThat(tries).as("sink accepts frame %d", seq).isLessThan(1000);
                    Thread.sleep(1);
                }
            }
            assertThat(c.waitFor(30, TimeUnit.SECONDS)).as(Files.readString(log)).isTrue();
            assertThat(c.exitValue()).as(Files.readString(log)).isZero();
            assertThat(Files.readString(log)).contains("connected with 4-page rings of 1024 slots")
                    .contains("TX DONE " + COUNT).contains("RX CHECKED " + RX_COUNT);
            assertThat(bus.status(id)).containsEntry("queue-0/tx-errors", "0");
        } finally {
            c.destroyForcibly();
        }
    }

    /** gcc against Xen's headers and libxenstore; a missing tool fails naming the package to install. */
    static Path compile(String program) throws Exception {
        Path source = Path.of("src/main/c/" + program + ".c").toAbsolutePath();
        Path binary = Path.of("target/" + program).toAbsolutePath();
        assertThat(Path.of("/usr/include/xen/io/netif.h")).as("Xen's headers: apt-get install libxen-dev").exists();
        assertThat(Path.of("/usr/include/xenstore.h")).as("libxenstore's header: apt-get install libxen-dev").exists();
        Process gcc;
        try {
            gcc = new ProcessBuilder("gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", binary.toString(),
                    source.toString(), "-lxenstore").redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            throw new AssertionError("gcc not found: apt-get install gcc", e);
        }
        String out = new String(gcc.getInputStream().readAllBytes());
        assertThat(gcc.waitFor()).as("gcc " + source + ":\n" + out).isZero();
        return binary;
    }
}
