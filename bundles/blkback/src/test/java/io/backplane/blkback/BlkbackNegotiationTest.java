package io.backplane.blkback;

import static io.backplane.ring.layout.BlkifConstants.BLKIF_OP_READ;
import static io.backplane.ring.layout.BlkifConstants.BLKIF_RSP_OKAY;
import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.nativeio.NativeIo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Frontends that ask for more than the backend offered, speak another ABI, or lie about the
 * ring get what Linux blkback gives them: xenbus_dev_fatal's error node and a closed device,
 * and nothing happens to any other vbd.
 */
class BlkbackNegotiationTest {
    static final int DEVID = 51712;
    static final int OTHER = 51728;
    static NativeIo io;

    @TempDir
    Path dir;
    SimWorld world;
    Path image;
    int domid;

    @BeforeAll
    static void loadLibc() {
        io = new NativeIo();
    }

    @AfterAll
    static void dropLibc() {
        io = null;
    }

    @BeforeEach
    void start() throws IOException {
        world = new SimWorld(dir, io);
        image = dir.resolve("disk.img");
        Files.write(image, new byte[1 << 20]);
        domid = world.createDomain("asker", 512);
    }

    @AfterEach
    void stop() {
        world.close();
    }

    VbdHarness vbd(int devid, int maxOrder, int maxQueues) {
        Map<String, String> offer = BlkEndToEndTest.offer(maxOrder, maxQueues);
        return world.attachVbd(domid, devid, Map.of("params", image.toString(), "mode", "w"), offer);
    }

    String errorNode(int devid) {
        return world.xs.tryRead("/local/domain/0/error/backend/vbd/" + domid + "/" + devid + "/error").orElse(null);
    }

    void assertRefused(VbdHarness vbd, String words) throws InterruptedException {
        BlkbackRequestTest.awaitBackend(vbd, "5");
        assertThat(vbd.fatals).containsExactly(words);
        assertThat(errorNode(vbd.id.devid())).isEqualTo(words);
        assertThat(world.xs.read(vbd.id.backendPath() + "/error")).isEqualTo(words);
        assertThat(vbd.status()).doesNotContainKey("queues");
    }

    @Test
    void aRingOrderAboveTheOfferIsRefusedAsLinuxDoes() throws Exception {
        try (VbdHarness vbd = vbd(DEVID, 2, 1); RawFront fe = new RawFront(dir, domid, DEVID, 3)) {
            fe.connect(Map.of(), true);
            assertRefused(vbd, vbd.id.frontendPath() + "/request 3 ring page order exceed max:2");
        }
    }

    @Test
    void moreQueuesThanOfferedAndZeroQueuesAreRefused() throws Exception {
        try (VbdHarness vbd = vbd(DEVID, 0, 2); RawFront fe = new RawFront(dir, domid, DEVID, 0)) {
            fe.connect(Map.of("multi-queue-num-queues", "3"), false);
            assertRefused(vbd, "guest requested 3 queues, exceeding the maximum of 2.");
        }
        try (VbdHarness vbd = vbd(OTHER, 0, 2); RawFront fe = new RawFront(dir, domid, OTHER, 0)) {
            fe.connect(Map.of("multi-queue-num-queues", "0"), false);
            assertRefused(vbd, "guest requested 0 queues, exceeding the maximum of 2.");
        }
    }

    @Test
    void otherAbisAndMissingKeysAreRefused() throws Exception {
        try (VbdHarness vbd = vbd(DEVID, 0, 1); RawFront fe = new RawFront(dir, domid, DEVID, 0)) {
            fe.connect(Map.of("protocol", "armv7l-abi"), false);
            assertRefused(vbd, "unknown fe protocol armv7l-abi");
        }
        try (VbdHarness vbd = vbd(OTHER, 0, 1); RawFront fe = new RawFront(dir, domid, OTHER, 0)) {
            fe.xs.write(fe.dir + "/ring-ref", Integer.toString(fe.ringRefs[0]));
            fe.xs.write(fe.dir + "/state", "3");
            assertRefused(vbd, "reading " + fe.dir + "/event-channel");
        }
    }

    @Test
    void aRingOverflowDisablesOnlyThatVbd() throws Exception {
        try (VbdHarness bad = vbd(DEVID, 1, 1); VbdHarness good = vbd(OTHER, 1, 1);
             RawFront liar = new RawFront(dir, domid, DEVID, 0); RawFront honest = new RawFront(liar.guest, OTHER, 0, false)) {
            liar.connect(Map.of(), false);
            honest.connect(Map.of(), false);
            BlkbackRequestTest.awaitBackend(bad, "4");
            BlkbackRequestTest.awaitBackend(good, "4");
            int g = (int) liar.grantedPage(false)[1];
            assertThat(liar.call(BlkbackRequestTest.rw(BLKIF_OP_READ, 1, 0, new int[] {g}, 0, 7)).status).isEqualTo(BLKIF_RSP_OKAY);

            liar.publishBogusRequestProducer(liar.ring.size() + 1);
            BlkbackRequestTest.awaitBackend(bad, "5");
            assertThat(bad.fatals).singleElement().asString()
                    .startsWith("Frontend provided bogus ring requests on queue 0 (Impossible number of requests")
                    .endsWith("Halting ring processing");
            assertThat(errorNode(DEVID)).startsWith("Frontend provided bogus ring requests");

            int h = (int) honest.grantedPage(false)[1];
            for (int i = 0; i < 100; i++) {
                assertThat(honest.call(BlkbackRequestTest.rw(BLKIF_OP_READ, i, i * 8L, new int[] {h}, 0, 7)).status)
                        .isEqualTo(BLKIF_RSP_OKAY);
            }
            assertThat(good.backendState()).isEqualTo("4");
            assertThat(good.fatals).isEmpty();
            assertThat(errorNode(OTHER)).isNull();
        }
    }
}
