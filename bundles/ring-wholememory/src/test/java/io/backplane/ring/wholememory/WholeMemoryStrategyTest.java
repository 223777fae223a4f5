package io.backplane.ring.wholememory;

import static io.backplane.guest.grantpool.GrantPoolMain.pattern;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.backplane.api.hypervisor.GrantStatus;
import io.backplane.api.ring.RingChannel;
import io.backplane.api.ring.RingException;
import io.backplane.api.ring.RingRequest;
import io.backplane.api.ring.SegmentIo;
import io.backplane.guest.grantpool.GrantPoolSim;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Whole-memory mapping against the sim, the pages granted by a separate guest process named "grant-pool". */
class WholeMemoryStrategyTest {
    static final String GUEST = "grant-pool";

    @TempDir
    Path stateDir;
    GrantPoolSim fx;
    int[] refs;

    @BeforeEach
    void start() throws Exception {
        fx = GrantPoolSim.start(stateDir, 8);
        refs = fx.pool().refs();
    }

    @AfterEach
    void stop() {
        fx.close();
    }

    WholeMemoryStrategy strategy(String... trusted) {
        return new WholeMemoryStrategy(fx.grants(), fx.sim(), fx.sim(), trusted);
    }

    RingRequest ring() {
        return new RingRequest(fx.domid(), "blkif", 112, 16, new int[] {fx.pool().ringRef()}, Map.of());
    }

    /**
     * A trusted guest: one mapping of its memory, every grant checked in its grant table and read
     * or written in place; a bad, read-only or ended grant gets Xen's code and nothing is touched.
     */
    @Test
    void aTrustedDomainsGrantsAreReachedThroughOneMappingAfterTheirEntryIsChecked() throws Exception {
        WholeMemoryStrategy s = strategy(GUEST);
        assertThat(s.fitness(ring())).isEqualTo(WholeMemoryStrategy.FITNESS);
        int readOnly = fx.pool().readOnlyRef();
        try (RingChannel ch = s.open(ring())) {
            SegmentIo io = ch.segments();
            ByteBuffer dst = ByteBuffer.allocateDirect(4096);
            for (int i = 0; i < 4; i++) {
                assertThat(io.read(refs[i], 0, dst, 0, 4096)).isZero();
                for (int off = 0; off < 4096; off += 7) {
                    assertThat(dst.get(off)).isEqualTo(pattern(refs[i], off));
                }
                assertThat(io.direct(refs[i], 100, 50, false).get(0)).isEqualTo(pattern(refs[i], 100));
            }
            ByteBuffer src = ByteBuffer.allocateDirect(4096);
            for (int off = 0; off < 4096; off++) {
                src.put(off, pattern(77, off));
            }
            assertThat(io.write(src, 0, refs[5], 0, 4096)).isZero();
            assertThat(fx.pool().check(refs[5], 77)).as("the guest reads what dom0 wrote").isEqualTo("ok");
            assertThat(fx.pinned()).as("only the ring page: no grant is mapped for a segment").isEqualTo(1);

            assertThat(io.write(src, 0, readOnly, 0, 4096)).isEqualTo(GrantStatus.GENERAL_ERROR.code());
            assertThat(io.direct(readOnly, 0, 4096, true)).isNull();
            assertThat(fx.pool().check(readOnly, readOnly)).as("the read-only page is untouched").isEqualTo("ok");
            assertThat(io.read(readOnly, 0, dst, 0, 64)).as("read-only serves reads").isZero();
            assertThat(io.read(4000, 0, dst, 0, 64)).isEqualTo(GrantStatus.BAD_GNTREF.code());
            // The guest ends a grant (nothing pins it: no map, no copy in flight); it cannot be reached any more.
            assertThat(fx.pool().revoke(refs[6])).isTrue();
            assertThat(io.read(refs[6], 0, dst, 0, 64)).isEqualTo(GrantStatus.GENERAL_ERROR.code());
            assertThat(io.direct(refs[6], 0, 64, false)).isNull();
            assertThat(ch.counters()).containsEntry("whole-memory-refusals", 3L);
        }
        assertThat(fx.pinned()).isZero();
    }

    /** Not named, not served: no fitness, and opening anyway is refused with the policy's name, nothing left mapped. */
    @Test
    void aDomainThePolicyDoesNotNameIsRefused() throws Exception {
        long before = fx.mappingsOfGuestMemory();
        for (WholeMemoryStrategy s : new WholeMemoryStrategy[] {strategy(), strategy("grant-pool-2", "Grant-Pool")}) {
            assertThat(s.fitness(ring())).isNegative();
            assertThatThrownBy(() -> s.open(ring())).isInstanceOf(RingException.class)
                    .hasMessageContaining("whole-memory mapping refused for the blkif ring of domain " + fx.domid())
                    .hasMessageContaining("not named in io.backplane.ring.wholememory trustedDomains");
        }
        assertThat(fx.pinned()).isZero();
        assertThat(fx.mappingsOfGuestMemory()).isEqualTo(before);
    }
}
