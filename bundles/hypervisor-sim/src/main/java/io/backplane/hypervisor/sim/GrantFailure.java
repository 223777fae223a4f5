package io.backplane.hypervisor.sim;

import io.backplane.api.hypervisor.GrantStatus;

/** Internal: a grant check failed with a GNTST code and Xen's reason. */
final class GrantFailure extends Exception {
    private static final long serialVersionUID = 1L;
    private final GrantStatus status;

    GrantFailure(GrantStatus status, String reason) {
        super(reason, null, false, false);
        this.status = status;
    }

    GrantStatus status() {
        return status;
    }
}
