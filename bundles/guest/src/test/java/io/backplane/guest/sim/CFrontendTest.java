package io.backplane.guest.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.hypervisor.DomainState;
import io.backplane.api.xenstore.XsPerm;
import io.backplane.hypervisor.sim.SimHypervisor;
import io.backplane.nativeio.NativeIo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/sim-abi.md is enough to write a frontend in C: src/test/c/echo_front.c, built here with
 * gcc against /usr/include/xen and Xen's libxenstore, attaches to a running Java backend as a
 * guest and exchanges a million requests on a ring made with ring.h's own macros.
 */
class CFrontendTest {
    static final long COUNT = 1_000_000;

    @TempDir
    Path dir;
    XenStoreFixture xs;
    SimHypervisor sim;

    @BeforeEach
    void start() throws Exception {
        xs = new XenStoreFixture(dir);
        sim = SimHypervisor.start(dir, new NativeIo(), xs.dom0, -1);
    }

    @AfterEach
    void stop() {
        sim.close();
        xs.close();
    }

    @Test
    void aCFrontendBuiltFromTheAbiDocExchangesRequestsWithAJavaBackend() throws Exception {
        Path binary = compile();
        int domid = sim.create(new DomainConfig("c-guest", 16, 1)).domid();
        String fe = EchoProtocol.frontendPath(domid);
        xs.dom0.mkdir(fe);
        xs.dom0.setPerms(fe, List.of(XsPerm.none(domid), XsPerm.read(0)));

        try (EchoBackend backend = new EchoBackend(sim, sim, xs.dom0, domid);
             GuestProcess guest = GuestProcess.start(dir, "echo_front",
                     List.of(binary.toString(), dir.toString(), Integer.toString(domid), Long.toString(COUNT)))) {
            assertThat(guest.waitFor(120)).as(guest.output()).isZero();
            assertThat(guest.output()).contains(COUNT + " responses checked");
            assertThat(xs.dom0.read(fe + "/checked")).isEqualTo(Long.toString(COUNT));
            assertThat(backend.served.get()).isEqualTo(COUNT);
        }
        RingAcceptanceTest.waitFor(() -> sim.info(domid).map(i -> i.state() == DomainState.SHUTDOWN).orElse(false));
    }

    /** gcc against Xen's headers; a missing tool fails with the package to install. */
    static Path compile() throws Exception {
        Path source = Path.of("src/test/c/echo_front.c").toAbsolutePath();
        Path binary = Path.of("target/echo_front").toAbsolutePath();
        assertThat(Path.of("/usr/include/xen/io/ring.h")).as("Xen's headers: apt-get install libxen-dev").exists();
        assertThat(Path.of("/usr/include/xenstore.h")).as("libxenstore's header: apt-get install libxen-dev").exists();
        Process gcc;
        try {
            gcc = new ProcessBuilder("gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", binary.toString(),
                    source.toString(), "-lxenstore").redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            throw new AssertionError("gcc not found: apt-get install gcc", e);
        }
        String out = new String(gcc.getInputStream().readAllBytes());
        assertThat(gcc.waitFor()).as("gcc " + source + ":\n" + out).isZero();
        assertThat(Files.isExecutable(binary)).isTrue();
        return binary;
    }
}
