package io.backplane.ring.layout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import io.backplane.api.backend.XenbusState;
import io.backplane.api.hypervisor.GrantStatus;

class EnumsTest {

    @Test
    void xenbusStateReadsAndWritesDecimalStrings() {
        assertThat(XenbusState.CONNECTED.wire()).isEqualTo("4");
        assertThat(XenbusState.ofWire("4")).isEqualTo(XenbusState.CONNECTED);
        assertThat(XenbusState.ofWire("8")).isEqualTo(XenbusState.RECONFIGURED);
        assertThat(XenbusState.ofWire(null)).as("missing node").isEqualTo(XenbusState.UNKNOWN);
        assertThat(XenbusState.ofWire("garbage")).as("as xenbus_read_driver_state").isEqualTo(XenbusState.UNKNOWN);
        assertThatThrownBy(() -> XenbusState.ofWire("9")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("no XenbusState has code 9");
    }

    @Test
    void grantStatusMapsCodes() {
        assertThat(GrantStatus.fromCode(-8)).isEqualTo(GrantStatus.PERMISSION_DENIED);
        assertThat(GrantStatus.fromCode(-13)).isEqualTo(GrantStatus.NO_SPACE);
        assertThat(GrantStatus.fromCode(0).message()).isEqualTo("okay");
        assertThat(GrantStatus.fromCode(-14)).as("a newer hypervisor's code").isEqualTo(GrantStatus.GENERAL_ERROR);
        assertThat(GrantStatus.fromCode(1)).isEqualTo(GrantStatus.GENERAL_ERROR);
    }

    @Test
    void ringSizesRoundDownToAPowerOfTwo() {
        assertThat(SharedRingDescriptor.entryCountForPages(3, 12)).isEqualTo(512);
        assertThat(SharedRingDescriptor.roundDownToPowerOfTwo(1018)).isEqualTo(512);
        assertThatThrownBy(() -> SharedRingDescriptor.entryCountForPages(0, 12)).isInstanceOf(IllegalArgumentException.class);
    }
}
