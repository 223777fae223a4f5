package io.backplane.ring;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RingIndexTest {

    @ParameterizedTest(name = "old {0}, new {1}, event {2} -> notify {3}")
    @CsvSource({
        // event inside (old, new]
        "0, 1, 1, true",
        "0, 8, 5, true",
        "0, 8, 8, true",
        // event at old (already passed) or beyond new
        "0, 8, 0, false",
        "0, 8, 9, false",
        "1, 2, 1, false",
        // nothing published
        "5, 5, 5, false",
        "5, 5, 6, false",
        // u32 wrap-around: old 0xfffffff8, new 0x00000008
        "-8, 8, -8, false",
        "-8, 8, -7, true",
        "-8, 8, -1, true",
        "-8, 8, 0, true",
        "-8, 8, 8, true",
        "-8, 8, 9, false",
        // the peer's event index far behind (stale): no notify
        "1000, 1010, 3, false",
    })
    void notifyIffEventInPublishedRange(int oldProd, int newProd, int event, boolean notify) {
        assertThat(RingIndex.needsNotify(oldProd, newProd, event)).isEqualTo(notify);
    }

    @ParameterizedTest(name = "prod {0}, base {1}, size {2} -> overflow {3}")
    @CsvSource({
        "0, 0, 256, false",
        "256, 0, 256, false",
        "257, 0, 256, true",
        // a producer moving backwards is a huge unsigned distance
        "-1, 0, 256, true",
        "9, 10, 256, true",
        // across the u32 wrap
        "245, -11, 256, false",
        "246, -11, 256, true",
    })
    void producerOverflowIsUnsigned(int prod, int base, int size, boolean overflow) {
        assertThat(RingIndex.producerOverflow(prod, base, size)).isEqualTo(overflow);
    }

    @ParameterizedTest
    @CsvSource({"5, 3, 2", "2, -2, 4", "3, 5, 4294967294"})
    void distanceIsUnsigned(int prod, int cons, long distance) {
        assertThat(RingIndex.distance(prod, cons)).isEqualTo(distance);
    }
}
