package io.backplane.ring;

import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.hypervisor.GrantStatus;
import java.nio.ByteBuffer;

/**
 * The argument checks GNTTABOP_copy makes, for strategies that move segments by other means
 * (through a mapping): the same bad segment gets the same GNTST code whatever the strategy.
 */
public final class SegmentBounds {
    private static final int PAGE = DomainConfig.PAGE_SIZE;

    private SegmentBounds() {
    }

    /**
     * GNTST_okay when {@code length} bytes at {@code offset} stay inside the granted page and at
     * {@code localOffset} inside the direct buffer {@code local} (writable when written);
     * GNTST_bad_copy_arg for the page side, GNTST_bad_virt_addr for the local side otherwise.
     */
    public static int check(int offset, int length, ByteBuffer local, int localOffset, boolean localWritten) {
        if (offset < 0 || length < 0 || offset + length > PAGE) {
            return GrantStatus.BAD_COPY_ARG.code();
        }
        if (local == null || !local.isDirect() || localOffset < 0 || localOffset + length > local.capacity()
                || (localWritten && local.isReadOnly())) {
            return GrantStatus.BAD_VIRT_ADDR.code();
        }
        return GrantStatus.OKAY.code();
    }
}
