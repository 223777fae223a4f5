package io.backplane.hypervisor.sim;

import io.backplane.ring.LegacyRingLayout;

/**
 * The test ring of docs/sim-abi.md's example: one page, ring.h layout,
 * {@code struct echo_request { uint32_t id; uint32_t value; }} and a response of the same shape
 * whose value is {@code value * 3 + 1} (mod 2^32). Device keys live under
 * {@code device/echo/0} of the guest and {@code backend/echo/<domid>/0} of dom0.
 */
final class EchoProtocol {
    static final int ENTRY = 8;
    static final LegacyRingLayout LAYOUT = LegacyRingLayout.ofPages(1, ENTRY);
    static final int ID = 0;
    static final int VALUE = 4;
    static final String FRONTEND = "device/echo/0";

    private EchoProtocol() {
    }

    static int requestValue(long n) {
        return (int) (n * 0x9E3779B1L);
    }

    static int answer(int value) {
        return value * 3 + 1;
    }

    static String frontendPath(int domid) {
        return "/local/domain/" + domid + "/" + FRONTEND;
    }
}
