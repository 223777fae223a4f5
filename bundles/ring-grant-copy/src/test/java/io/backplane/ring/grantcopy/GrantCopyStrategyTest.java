package io.backplane.ring.grantcopy;

import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.hypervisor.GrantStatus;
import io.backplane.api.ring.RingChannel;
import io.backplane.api.ring.RingException;
import io.backplane.api.ring.RingRequest;
import io.backplane.api.ring.SegmentCopy;
import io.backplane.api.ring.SegmentIo;
import io.backplane.hypervisor.sim.SimHypervisor;
import io.backplane.nativeio.NativeIo;
import io.backplane.ring.BackRing;
import io.backplane.ring.GeometryRingLayout;
import io.backplane.ring.NetifTxRequest;
import io.backplane.ring.NetifTxResponse;
import io.backplane.ring.layout.NetifTxRequestDescriptor;
import io.backplane.ring.layout.NetifTxResponseDescriptor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The grant-copy strategy against the sim hypervisor, with the frontend in a guest process. */
class GrantCopyStrategyTest {
    private static final int COUNT = 5000;

    @TempDir
    Path stateDir;
    private SimHypervisor sim;
    private GrantCopyStrategy strategy;
    private int domid;
    private Process guest;

    @BeforeEach
    void start() throws Exception {
        sim = SimHypervisor.start(stateDir, new NativeIo(), null, -1);
        domid = sim.create(new DomainConfig("netfront", 64, 1)).domid();
        strategy = new GrantCopyStrategy(sim);
    }

    @AfterEach
    void stop() {
        if (guest != null) {
            guest.destroyForcibly();
        }
        sim.close();
    }

    @ParameterizedTest(name = "{0} ring page(s)")
    @ValueSource(ints = {1, 4})
    void servesANetifTxRingFromAGuestProcess(int pages) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        guest = new ProcessBuilder(java, "-Xmx64m", "-cp", System.getProperty("java.class.path"),
                TxFrontendMain.class.getName(), stateDir.toString(), Integer.toString(domid),
                Integer.toString(pages), Integer.toString(COUNT))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(guest.getInputStream(), StandardCharsets.UTF_8));
        String[] ready = out.readLine().split(" ");
        assertThat(ready[0]).isEqualTo("ready");
        int[] ringRefs = Arrays.stream(ready[1].split(",")).mapToInt(Integer::parseInt).toArray();
        int rxRef = Integer.parseInt(ready[3]);
        RingRequest request = new RingRequest(domid, "netif-tx", NetifTxRequestDescriptor.LENGTH,
                NetifTxResponseDescriptor.LENGTH, ringRefs, Map.of());
        assertThat(strategy.fitness(request)).isZero();

        long served;
        Map<String, Long> counters;
        try (RingChannel channel = strategy.open(request)) {
            assertThat(channel.geometry().entries()).isEqualTo(256 * pages);
            assertThat(channel.geometry().describe()).isEqualTo(pages == 1 ? "ring.h/1 page/256x12" : "ring.h/4 pages/1024x12");
            assertThat(sim.pinnedGrants(domid)).as("ring pages pinned while mapped").isEqualTo(pages);
            BackRing back = BackRing.attach(channel.ring(), GeometryRingLayout.of(channel.geometry()));
            Writer go = new OutputStreamWriter(guest.getOutputStream(), StandardCharsets.UTF_8);
            go.write("go\n");
            go.flush();
            served = serve(back, channel.segments(), rxRef);
            counters = channel.counters();
        }
        assertThat(out.readLine()).isEqualTo("done " + COUNT + " answered, " + COUNT / 10 + " refused");
        assertThat(guest.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(guest.exitValue()).as("guest exit status (its stderr says what was wrong)").isZero();
        assertThat(sim.pinnedGrants(domid)).as("closing the channel unmaps the ring").isZero();

        long expectedBytes = 0;
        for (int seq = 0; seq < COUNT; seq++) {
            expectedBytes += TxFrontendMain.bad(seq) ? 0 : TxFrontendMain.size(seq);
        }
        assertThat(served).isEqualTo(expectedBytes);
        assertThat(counters).containsEntry("ring-pages", (long) pages)
                .containsEntry("grant-copies", COUNT + 1L)
                .containsEntry("grant-copy-failures", COUNT / 10L)
                .containsEntry("grant-copy-bytes", expectedBytes + 256);
        assertThat(counters.get("grant-copy-batches")).as("copies are batched").isLessThan(COUNT / 2L);
    }

    /** A netback-TX-like loop: copy each batch's segments in one call, check them, answer. */
    private long serve(BackRing back, SegmentIo io, int rxRef) {
        ByteBuffer local = ByteBuffer.allocateDirect(64 * 4096);
        NetifTxRequest[] reqs = new NetifTxRequest[64];
        Arrays.setAll(reqs, i -> new NetifTxRequest());
        NetifTxResponse rsp = new NetifTxResponse();
        int[] status = new int[64];
        long bytes = 0;
        int done = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (done < COUNT) {
            int n = Math.min(back.unconsumedRequests(), 64);
            if (n == 0) {
                assertThat(System.nanoTime()).as("guest keeps sending").isLessThan(deadline);
                Thread.onSpinWait();
                continue;
            }
            List<SegmentCopy> batch = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                back.copyRequest(reqs[i]);
                batch.add(SegmentCopy.fromGuest(reqs[i].gref, reqs[i].offset, local, i * 4096, reqs[i].size));
            }
            io.copy(batch, status);
            for (int i = 0; i < n; i++) {
                int seq = done + i;
                if (TxFrontendMain.bad(seq)) {
                    assertThat(status[i]).as("segment %d names an ungranted ref", seq).isEqualTo(GrantStatus.BAD_GNTREF.code());
                } else {
                    assertThat(status[i]).as("segment %d", seq).isZero();
                    for (int b = 0; b < reqs[i].size; b++) {
                        if (local.get(i * 4096 + b) != TxFrontendMain.pattern(reqs[i].offset + b)) {
                            throw new AssertionError("request " + seq + " byte " + b + " differs");
                        }
                    }
                    bytes += reqs[i].size;
                }
                if (seq == COUNT - 1) {
                    // Before the last response: the RX direction, the page's first 256 bytes reversed.
                    ByteBuffer reply = ByteBuffer.allocateDirect(256);
                    for (int b = 0; b < 256; b++) {
                        reply.put(b, TxFrontendMain.pattern(255 - b));
                    }
                    assertThat(io.write(reply, 0, rxRef, 100, 256)).isZero();
                }
                rsp.id = reqs[i].id;
                rsp.status = status[i] == 0 ? 0 : -1;
                back.putResponse(rsp);
            }
            back.pushResponses();
            done += n;
        }
        return bytes;
    }

    @Test
    void aRefusedRingGrantLeavesNothingMapped() throws Exception {
        // Ring refs nobody granted: the map is refused with Xen's code and nothing stays pinned.
        RingRequest request = new RingRequest(domid, "blkif", 112, 16, new int[]{10, 11}, Map.of());
        assertThatThrownBy(() -> strategy.open(request)).isInstanceOf(RingException.class)
                .hasMessageContaining("cannot map the blkif ring of domain " + domid)
                .hasMessageContaining("GNTST_");
        assertThat(sim.pinnedGrants(domid)).isZero();
    }

    @Test
    void fitsRingHRingsOnly() {
        assertThat(strategy.fitness(new RingRequest(domid, "blkif", 112, 16, new int[16], Map.of()))).isZero();
        assertThat(strategy.fitness(new RingRequest(domid, "blkif", 112, 16, new int[3], Map.of()))).isNegative();
        assertThat(strategy.fitness(new RingRequest(domid, "blkif", 112, 16, new int[32], Map.of()))).isNegative();
        assertThatThrownBy(() -> strategy.open(new RingRequest(domid, "blkif", 112, 16, new int[3], Map.of())))
                .hasMessage("grant-copy cannot serve the blkif ring of domain " + domid
                        + ": 3 ring pages (a ring.h ring has 2^order pages, at most 16)");
    }
}
