package io.backplane.netback;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.device.DeviceId;
import io.backplane.backend.BackendBus;
import io.backplane.ring.layout.GrantEntryV1Descriptor;
import io.backplane.ring.layout.SharedRingDescriptor;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * kill -9 at the worst moment on a vif: a netfront guest process sends and receives while a
 * backend process ({@link DyingNetback}) takes requests off queue 0's TX and RX rings, writes
 * responses over their slots and is killed with SIGKILL before it publishes them, its pid
 * recorded as the vif's owner. The next backend adopts the vif and serves what the dead one took
 * from the request mirrors: every frame the guest sent reaches the host once, byte for byte,
 * every host frame reaches the guest intact, no TX answer fails, no reconnect.
 */
class NetCrashReattachTest {
    static final int KILLS = 2;
    NetReattachFixture fx;
    SimNet net;
    BackendBus bus;

    @BeforeEach
    void start() throws Exception {
        fx = new NetReattachFixture();
        net = fx.net;
    }

    @AfterEach
    void stop() throws Exception {
        if (bus != null) {
            bus.close();
        }
        fx.close();
    }

    @Test
    void aNetbackKilledBetweenWritingAndPublishingResponsesLosesNoFrame() throws Exception {
        int domid = net.createDomain("net-killed");
        String mac = "00:16:3e:10:00:0a";
        DeviceId id = new DeviceId(0, "vif", domid, 0);
        fx.offers.put(id, SimNet.offer(2));
        bus = fx.newBus();
        net.addVif(domid, 0, mac, "xenbr0", null);
        // 6 s of sending per queue: both kills come while the guest still sends (asserted below).
        int count = 6000;
        net.startGuest(domid, "ip=10.1.0.10,queues=2,count=" + count + ",rate=1000,size=60:1514:4000:9000");
        assertThat(SimNet.await(20, () -> "4".equals(net.read(id.backendPath() + "/state")))).isTrue();
        assertThat(net.read(id.frontendPath() + "/queue-0/tx-ring-page-order") + net.read(id.frontendPath() + "/ring-page-order"))
                .as("one-page rings (what DyingNetback maps)").isEmpty();
        Path memory = net.stateDir.resolve("domains/" + domid + "/memory");
        long txRing = frameOffset(domid, net.read(id.frontendPath() + "/queue-0/tx-ring-ref"));
        long rxRing = frameOffset(domid, net.read(id.frontendPath() + "/queue-0/rx-ring-ref"));
        Path files = net.stateDir.resolve("devices/vif/" + domid + "/0");
        NetReattachFixture.Traffic traffic = fx.new Traffic(id, mac, count);
        List<String> logs = fx.logs;

        int midTraffic = 0;
        for (int kill = 0; kill <= KILLS; kill++) {
            traffic.exchange();
            if (kill == KILLS) {
                break;
            }
            midTraffic += traffic.sending(600) ? 1 : 0;
            bus.close();                                   // handed over, to a process about to die
            Process dying = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx32m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                    DyingNetback.class.getName(), memory.toString(), Long.toString(txRing),
                    files.resolve("queue-0-tx.requests").toString(), Long.toString(rxRing),
                    files.resolve("queue-0-rx.requests").toString()).redirectErrorStream(true).start();
            net.xs.write(id.backendPath() + "/backplane/owner",
                    dying.pid() + "@" + dying.toHandle().info().startInstant().orElseThrow().toEpochMilli());
            String said = new BufferedReader(new InputStreamReader(dying.getInputStream(), StandardCharsets.UTF_8)).readLine();
            Matcher m = Pattern.compile("tx took (\\d+) after rsp_prod \\d+, rx took (\\d+) after rsp_prod \\d+, answered all, published none")
                    .matcher(String.valueOf(said));
            assertThat(m.matches()).as("the dying backend said: " + said).isTrue();
            int txTook = Integer.parseInt(m.group(1));
            int rxTook = Integer.parseInt(m.group(2));
            dying.destroyForcibly();                       // SIGKILL
            assertThat(dying.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(dying.exitValue()).as("killed by SIGKILL").isEqualTo(128 + 9);

            int from = logs.size();
            bus = fx.newBus();                             // adopts: the owner is a dead process
            assertThat(SimNet.await(20, () -> logs.stream().skip(from).anyMatch(l -> l.contains(
                    "re-attached to the live rings (its backend process " + dying.pid() + "@")))).as(logs.toString()).isTrue();
            String adopted = logs.stream().skip(from).filter(l -> l.contains("re-attached at the published responses")).findFirst().orElseThrow();
            // TX requests are sent again; RX buffers the dead one took are filled by the adopter
            assertThat(adopted).as("queue 0's taken TX requests served from the mirror").contains(txTook == 0 ? ""
                    : "(" + txTook + " requests the last backend took and never answered served again from its request mirrors)");
            assertThat(adopted).as("queue 0's taken RX buffers taken over from the mirror").contains(rxTook == 0 ? ""
                    : "(" + rxTook + " receive buffers the last backend took and never filled, taken over)");
        }
        traffic.checkAllArrived(90_000);
        assertThat(midTraffic).as("kills while the guest was still sending").isEqualTo(KILLS);
        assertThat(logs).noneMatch(l -> l.contains("fatal") || l.contains("disabled"));
    }

    /** Where the guest's page granted as {@code ref} lies in its memory file (the sim's grant-table file). */
    private long frameOffset(int domid, String ref) throws Exception {
        ByteBuffer table = ByteBuffer.wrap(Files.readAllBytes(net.stateDir.resolve("domains/" + domid + "/grant-table")))
                .order(ByteOrder.LITTLE_ENDIAN);
        int frame = table.getInt(Integer.parseInt(ref) * GrantEntryV1Descriptor.LENGTH + GrantEntryV1Descriptor.FRAME_OFFSET);
        return (long) frame * SharedRingDescriptor.XEN_PAGE_SIZE;
    }
}
