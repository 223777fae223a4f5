package io.backplane.hypervisor.xen;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ErrnosTest {
    @Test
    void xensErrnosHaveTheirNames() {
        // ESRCH is what Xen's privcmd and evtchn give for a domain that does not exist (seen on the rig).
        assertThat(Errnos.name(3)).isEqualTo("ESRCH");
        assertThat(Errnos.name(22)).isEqualTo("EINVAL");
        assertThat(Errnos.name(28)).isEqualTo("ENOSPC");
        assertThat(Errnos.name(200)).isEqualTo("errno 200");
        assertThat(Errnos.name(-1)).isEqualTo("errno -1");
    }
}
