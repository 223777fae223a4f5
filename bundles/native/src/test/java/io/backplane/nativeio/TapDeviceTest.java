package io.backplane.nativeio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A real TAP interface: the host's ARP request for an address behind it comes out of
 * {@link TapDevice#read}, and a frame written in shows up in the interface's receive counter.
 * Needs root and /dev/net/tun (skipped, saying so, otherwise).
 */
class TapDeviceTest {

    @BeforeEach
    void needsTun() {
        assumeTrue(Files.isWritable(Path.of("/dev/net/tun")) && "root".equals(System.getProperty("user.name")),
                "TAP test needs root and /dev/net/tun");
    }

    @Test
    void hostTrafficComesOutAndFramesGoIn() throws Exception {
        NativeIo io = new NativeIo();
        String name = "bptap" + ProcessHandle.current().pid() % 10000;
        try (TapDevice tap = io.openTap(name)) {
            assertThat(tap.name()).isEqualTo(name);
            assertThat(Path.of("/sys/class/net", name)).exists();
            byte[] mac = {(byte) 0xfe, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff};
            tap.setHardwareAddress(mac);
            assertThat(tap.hardwareAddress()).containsExactly(mac);
            assertThat(Files.readString(Path.of("/sys/class/net", name, "address")).trim()).isEqualTo("fe:ff:ff:ff:ff:ff");
            tap.setUp(true);
            run("ip", "addr", "add", "10.213.7.1/24", "dev", name);

            // Sending to a neighbour on the TAP's subnet makes the kernel ARP for it through the TAP.
            try (DatagramSocket s = new DatagramSocket()) {
                byte[] payload = {1, 2, 3};
                s.send(new DatagramPacket(payload, 3, InetAddress.getByName("10.213.7.2"), 9));
            }
            ByteBuffer frame = ByteBuffer.allocateDirect(2048);
            boolean sawArp = false;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (!sawArp && System.nanoTime() < deadline) {
                frame.clear();
                int n = tap.read(frame, 200);
                if (n >= 42 && (frame.getShort(12) & 0xFFFF) == 0x0806) {
                    byte[] target = new byte[4];
                    frame.get(38, target);
                    sawArp = InetAddress.getByAddress(target).getHostAddress().equals("10.213.7.2");
                }
            }
            assertThat(sawArp).as("ARP request for 10.213.7.2 read from " + name).isTrue();

            long before = rxPackets(name);
            ByteBuffer out = ByteBuffer.allocateDirect(60);
            for (int i = 0; i < 6; i++) {
                out.put(i, (byte) 0xFF);                  // broadcast destination
            }
            out.put(6, (byte) 0x02).put(11, (byte) 0x01);  // locally administered source
            out.putShort(12, (short) 0x88B5);              // local experimental ethertype
            tap.write(out);
            assertThat(rxPackets(name)).isEqualTo(before + 1);
        }
        assertThat(Path.of("/sys/class/net", name)).doesNotExist();
    }

    /**
     * A multi-queue TAP: each attached queue is an fd of its own and shows as a queue of the
     * interface; closing one detaches it, and the interface lives until its last queue closes.
     */
    @Test
    void queuesAttachAndDetach() throws Exception {
        NativeIo io = new NativeIo();
        String name = "bpmq" + ProcessHandle.current().pid() % 10000;
        Path queues = Path.of("/sys/class/net", name, "queues");
        try (TapDevice tap = io.openTapWithVnetHeader(name)) {
            try (TapDevice q1 = tap.attachQueue(); TapDevice q2 = tap.attachQueue()) {
                assertThat(q1.name()).isEqualTo(name);
                assertThat(queues.resolve("tx-2")).exists();
                q2.close();
                assertThat(queues.resolve("tx-2")).doesNotExist();
                assertThat(queues.resolve("tx-1")).exists();
            }
            assertThat(queues.resolve("tx-1")).doesNotExist();
            assertThat(queues.resolve("tx-0")).exists();
        }
        assertThat(Path.of("/sys/class/net", name)).doesNotExist();
    }

    /**
     * A persistent TAP outlives its last queue with its address, carrier off; the next open of
     * the name attaches to the same interface (same ifindex), and once the flag is cleared the
     * last close removes it.
     */
    @Test
    void aPersistentTapOutlivesItsQueuesUntilTheFlagIsCleared() throws Exception {
        NativeIo io = new NativeIo();
        String name = "bpps" + ProcessHandle.current().pid() % 10000;
        Path sys = Path.of("/sys/class/net", name);
        try {
            String ifindex;
            try (TapDevice tap = io.openTapWithVnetHeader(name); TapDevice q1 = tap.attachQueue()) {
                tap.setPersistent(true);
                tap.setUp(true);
                run("ip", "addr", "add", "10.213.9.1/24", "dev", name);
                ifindex = Files.readString(sys.resolve("ifindex")).trim();
                assertThat(Files.readString(sys.resolve("carrier")).trim()).isEqualTo("1");
            }
            assertThat(Files.readString(sys.resolve("ifindex")).trim()).as("kept after its last queue closed").isEqualTo(ifindex);
            assertThat(Files.readString(sys.resolve("carrier")).trim()).as("no queue: no carrier").isEqualTo("0");
            try (TapDevice again = io.openTapWithVnetHeader(name)) {
                assertThat(Files.readString(sys.resolve("ifindex")).trim()).as("attached to the same interface").isEqualTo(ifindex);
                assertThat(Files.readString(sys.resolve("carrier")).trim()).isEqualTo("1");
                Process p = new ProcessBuilder("ip", "-o", "addr", "show", "dev", name).redirectErrorStream(true).start();
                assertThat(new String(p.getInputStream().readAllBytes())).contains("10.213.9.1/24");
                again.setPersistent(false);
            }
            assertThat(sys).as("removed with its last queue once not persistent").doesNotExist();
        } finally {
            if (Files.exists(sys)) {
                new ProcessBuilder("ip", "link", "del", name).start().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private static long rxPackets(String name) throws Exception {
        return Long.parseLong(Files.readString(Path.of("/sys/class/net", name, "statistics/rx_packets")).trim());
    }

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(String.join(" ", cmd) + ": " + out).isZero();
    }
}
