package io.backplane.netback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.backplane.api.backend.DeviceException;
import io.backplane.api.device.DeviceId;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What netback reads from a frontend and how it refuses, key by key, against the real store. */
class NetbackXenbusTest {
    static SimNet net;
    static int next;

    @BeforeAll
    static void start() throws Exception {
        net = new SimNet();
    }

    @AfterAll
    static void stop() throws Exception {
        net.close();
    }

    private KeysContext device(int maxQueues, String... frontendKeys) {
        DeviceId id = new DeviceId(0, "vif", 7, next++);
        net.xs.write(id.backendPath() + "/mac", "00:16:3e:00:00:01");
        for (int i = 0; i < frontendKeys.length; i += 2) {
            net.xs.write(id.frontendPath() + "/" + frontendKeys[i], frontendKeys[i + 1]);
        }
        return new KeysContext(net.xs, id, SimNet.offer(maxQueues));
    }

    @Test
    void flatSingleQueueWithOneEventChannel() {
        FrontendConfig cfg = NetbackXenbus.read(device(4, "tx-ring-ref", "8", "rx-ring-ref", "9", "event-channel", "5",
                "request-rx-copy", "1", "feature-sg", "1", "feature-no-csum-offload", "1"));
        assertThat(cfg.queues()).extracting(NetbackXenbusTest::keys).containsExactly("0: 8/9 tx 5 rx 5");
        assertThat(cfg.ringPageOrder()).as("no order key: one page, as Linux netfront").isEqualTo(-1);
        assertThat(cfg.ringOrder()).isZero();
        assertThat(cfg.persistent()).isFalse();
        assertThat(cfg.sg()).isTrue();
        assertThat(cfg.ipCsum()).isFalse();
        assertThat(cfg.gsoTcpv4()).isFalse();
    }

    @Test
    void queuesUnderQueueDirsWithSplitChannels() {
        FrontendConfig cfg = NetbackXenbus.read(device(2, "multi-queue-num-queues", "2", "request-rx-copy", "1",
                "queue-0/tx-ring-ref", "8", "queue-0/rx-ring-ref", "9", "queue-0/event-channel-tx", "5", "queue-0/event-channel-rx", "6",
                "queue-1/tx-ring-ref", "10", "queue-1/rx-ring-ref", "11", "queue-1/event-channel", "7"));
        assertThat(cfg.queues()).extracting(NetbackXenbusTest::keys).containsExactly("0: 8/9 tx 5 rx 6", "1: 10/11 tx 7 rx 7");
    }

    static String keys(FrontendConfig.QueueKeys q) {
        return q.id() + ": " + q.describeRefs() + " tx " + q.txEventChannel() + " rx " + q.rxEventChannel();
    }

    @Test
    void multiPageRingsPerQueueWithTheirOrder() {
        FrontendConfig cfg = NetbackXenbus.read(device(2, "multi-queue-num-queues", "2", "request-rx-copy", "1",
                "ring-page-order", "1",
                "queue-0/tx-ring-ref0", "8", "queue-0/tx-ring-ref1", "9", "queue-0/rx-ring-ref0", "10",
                "queue-0/rx-ring-ref1", "11", "queue-0/event-channel", "5",
                "queue-1/tx-ring-ref0", "12", "queue-1/tx-ring-ref1", "13", "queue-1/rx-ring-ref0", "14",
                "queue-1/rx-ring-ref1", "15", "queue-1/event-channel", "6"));
        assertThat(cfg.ringOrder()).isEqualTo(1);
        assertThat(cfg.queues()).extracting(NetbackXenbusTest::keys)
                .containsExactly("0: 8,9/10,11 tx 5 rx 5", "1: 12,13/14,15 tx 6 rx 6");
        assertThat(cfg.ringFeatures()).containsEntry("ring-page-order", "1");

        FrontendConfig zero = NetbackXenbus.read(device(1, "request-rx-copy", "1", "ring-page-order", "0",
                "tx-ring-ref0", "8", "rx-ring-ref0", "9", "event-channel", "5"));
        assertThat(zero.queues()).extracting(NetbackXenbusTest::keys).as("an order key names ring-ref0, as blkif")
                .containsExactly("0: 8/9 tx 5 rx 5");
    }

    @Test
    void ringOrderRefusals() {
        KeysContext tooBig = device(1, "request-rx-copy", "1", "ring-page-order", "5", "event-channel", "5");
        assertThatThrownBy(() -> NetbackXenbus.read(tooBig)).isInstanceOf(DeviceException.class)
                .hasMessage(tooBig.id().frontendPath() + "/request 5 ring page order exceed max:4");
        KeysContext garbled = device(1, "request-rx-copy", "1", "ring-page-order", "two", "event-channel", "5");
        assertThatThrownBy(() -> NetbackXenbus.read(garbled))
                .hasMessage("reading " + garbled.id().frontendPath() + "/ring-page-order: 'two' is not an unsigned number");
        KeysContext missing = device(1, "request-rx-copy", "1", "ring-page-order", "1", "event-channel", "5",
                "tx-ring-ref0", "8", "rx-ring-ref0", "9", "tx-ring-ref1", "10");
        assertThatThrownBy(() -> NetbackXenbus.read(missing))
                .hasMessage("reading " + missing.id().frontendPath() + "/ring-ref1");
    }

    @Test
    void persistentGrantsOnlyWhenOfferedAndAskedFor() {
        String[] keys = {"request-rx-copy", "1", "tx-ring-ref", "8", "rx-ring-ref", "9", "event-channel", "5",
                "feature-persistent", "1"};
        assertThat(NetbackXenbus.read(device(1, keys)).persistent()).as("not offered").isFalse();
        java.util.Map<String, String> offer = new java.util.HashMap<>(SimNet.offer(1));
        offer.put("feature-persistent", "1");
        KeysContext offered = device(1, keys);
        FrontendConfig cfg = NetbackXenbus.read(new KeysContext(net.xs, offered.id(), offer));
        assertThat(cfg.persistent()).isTrue();
        assertThat(cfg.ringFeatures()).containsEntry("feature-persistent", "1");
        KeysContext notAsked = device(1, "request-rx-copy", "1", "tx-ring-ref", "8", "rx-ring-ref", "9", "event-channel", "5");
        assertThat(NetbackXenbus.read(new KeysContext(net.xs, notAsked.id(), offer)).persistent()).as("not asked for").isFalse();
    }

    @Test
    void refusalsCarryLinuxMessages() {
        assertThatThrownBy(() -> NetbackXenbus.read(device(2, "multi-queue-num-queues", "0")))
                .isInstanceOf(DeviceException.class).hasMessage("guest requested 0 queues, but valid range is 1 - 2.");
        KeysContext noRef = device(1, "request-rx-copy", "1", "tx-ring-ref", "8", "event-channel", "5");
        assertThatThrownBy(() -> NetbackXenbus.read(noRef))
                .hasMessage("reading " + noRef.id().frontendPath() + "/ring-ref");
        KeysContext noEvtchn = device(2, "multi-queue-num-queues", "2", "request-rx-copy", "1",
                "queue-0/tx-ring-ref", "8", "queue-0/rx-ring-ref", "9", "queue-0/event-channel", "5",
                "queue-1/tx-ring-ref", "10", "queue-1/rx-ring-ref", "11", "queue-1/event-channel-tx", "7");
        assertThatThrownBy(() -> NetbackXenbus.read(noEvtchn))
                .hasMessage("reading " + noEvtchn.id().frontendPath() + "/queue-1/event-channel(-tx/rx)");
        assertThatThrownBy(() -> NetbackXenbus.read(device(1, "tx-ring-ref", "8", "rx-ring-ref", "9", "event-channel", "5")))
                .hasMessageContaining("/request-rx-copy: the frontend must request rx copy (1), not nothing");
    }

    @Test
    void rateIsReadAsLinuxDoes() {
        KeysContext limited = device(1, "tx-ring-ref", "8", "rx-ring-ref", "9", "event-channel", "5", "request-rx-copy", "1");
        net.xs.write(limited.id().backendPath() + "/rate", "1250000,20000");
        FrontendConfig cfg = NetbackXenbus.read(limited);
        assertThat(new long[] {cfg.creditBytes(), cfg.creditUsecs()}).containsExactly(1250000, 20000);

        KeysContext garbled = device(1, "tx-ring-ref", "8", "rx-ring-ref", "9", "event-channel", "5", "request-rx-copy", "1");
        net.xs.write(garbled.id().backendPath() + "/rate", "10Mb/s");
        assertThat(NetbackXenbus.read(garbled).creditBytes()).as("unparsable: unlimited").isZero();
        assertThat(garbled.logText()).contains("Failed to parse network rate limit '10Mb/s'. Traffic unlimited.");
    }
}
