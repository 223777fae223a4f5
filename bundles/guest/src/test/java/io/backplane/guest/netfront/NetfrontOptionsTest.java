package io.backplane.guest.netfront;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.backplane.guest.netfront.NetfrontOptions.Kind;
import org.junit.jupiter.api.Test;

class NetfrontOptionsTest {
    @Test
    void defaultsAreTodaysTestFramesWithEveryOffloadOfLinux() {
        NetfrontOptions o = NetfrontOptions.defaults();
        assertThat(o.kinds()).containsExactly(new Kind(0, 0));
        assertThat(o.csum()).isTrue();
        assertThat(o.gso()).isTrue();
        assertThat(o.rxSg() && o.rxGso() && o.rxCsum() && o.rxCsum6()).isTrue();
        assertThat(o.mssFor(4)).isEqualTo(1460);
        assertThat(o.mssFor(6)).isEqualTo(1440);
        assertThat(o.ip4()).containsExactly(10, 0, 0, 2);
        assertThat(o.peer4()).containsExactly(10, 0, 0, 1);
        assertThat(o.peer6Bytes()).containsExactly(0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 1);
    }

    @Test
    void trafficKindsFamiliesAndAddresses() {
        NetfrontOptions o = NetfrontOptions.parse("ip=10.9.0.5,traffic=mixed,family=both,csum=0,gso=0,mss=1000,"
                + "peer6=fd01::7,peer-mac=00:16:3e:00:00:99,rx-csum=0,rx-gso=0,rx-sg=0,rx-csum6=0");
        assertThat(o.kinds()).containsExactly(new Kind(0, 0), new Kind(4, 17), new Kind(4, 6), new Kind(6, 17), new Kind(6, 6));
        assertThat(o.peer4()).containsExactly(10, 9, 0, 1);
        assertThat(o.peer6Bytes()[1]).isEqualTo((byte) 1);
        assertThat(o.peer6Bytes()[15]).isEqualTo((byte) 7);
        assertThat(o.mssFor(6)).isEqualTo(1000);
        assertThat(o.csum() || o.gso() || o.rxCsum() || o.rxGso() || o.rxSg() || o.rxCsum6()).isFalse();
        assertThat(NetfrontOptions.parse("traffic=tcp,family=6").kinds()).containsExactly(new Kind(6, 6));
        assertThat(NetfrontStack.RxFeatures.of(NetfrontOptions.parse("rx-csum=0")).ipv6Csum())
                .as("no checksum offload at all: feature-ipv6-csum-offload is not written either").isFalse();
    }

    @Test
    void badValuesAreRefused() {
        assertThatThrownBy(() -> NetfrontOptions.parse("traffic=icmp")).hasMessageContaining("traffic=");
        assertThatThrownBy(() -> NetfrontOptions.parse("family=5")).hasMessageContaining("family=");
        assertThatThrownBy(() -> NetfrontOptions.parse("csum=yes")).hasMessageContaining("0 or 1");
        assertThatThrownBy(() -> NetfrontOptions.parse("peer6=example.org")).hasMessageContaining("IPv6");
        assertThatThrownBy(() -> NetfrontOptions.parse("peer-mac=00:11")).hasMessageContaining("MAC");
        assertThatThrownBy(() -> NetfrontOptions.parse("gsoo=1")).hasMessageContaining("unknown").hasMessageContaining("rx-gso");
    }
}
