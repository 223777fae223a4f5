package io.backplane.guest.netfront;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Test frames counted back per sending queue: in order, skipped, late, twice. */
class TestFrameLedgerTest {

    @Test
    void countsWhatIsMissingAndWhatCameTwice() {
        TestFrameLedger ledger = new TestFrameLedger();
        QueueCounters rx0 = new QueueCounters();
        QueueCounters rx1 = new QueueCounters();
        for (long seq = 0; seq < 5; seq++) {
            ledger.saw(rx0, 0, seq);
            ledger.saw(rx0, 1, seq);
        }
        assertThat(rx0.rxMissing.get() + rx0.rxDuplicates.get()).as("both queues in order").isZero();

        ledger.saw(rx0, 0, 8);                       // 5, 6 and 7 of queue 0 not back
        assertThat(rx0.rxMissing.get()).isEqualTo(3);
        ledger.saw(rx1, 0, 6);                       // late, on the other receive queue
        assertThat(rx0.rxMissing.get() + rx1.rxMissing.get()).isEqualTo(2);
        ledger.saw(rx0, 0, 6);                       // twice
        ledger.saw(rx0, 0, 8);
        ledger.saw(rx0, 1, 4);                       // queue 1's own numbers are apart
        assertThat(rx0.rxDuplicates.get()).isEqualTo(3);
        assertThat(rx0.snapshot()).containsEntry("rx-duplicates", 3L).containsEntry("rx-missing", 3L);
    }
}
