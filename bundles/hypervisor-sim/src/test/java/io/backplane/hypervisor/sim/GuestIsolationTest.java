package io.backplane.hypervisor.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.xenstore.XsPerm;
import io.backplane.nativeio.NativeIo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With a guest uid base, file modes keep guests apart: a guest process running as its domain's
 * uid works against its own domain (the C frontend, end to end) and cannot open anything of
 * another domain. Needs root and util-linux's setpriv.
 */
class GuestIsolationTest {
    static final int UID_BASE = 61000;

    @TempDir
    Path dir;
    XenStoreFixture xs;
    SimHypervisor sim;

    @BeforeEach
    void start() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")) && Files.isExecutable(Path.of("/usr/bin/setpriv")),
                "isolation test needs root and setpriv (util-linux)");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
        xs = new XenStoreFixture(dir);
        sim = SimHypervisor.start(dir, new NativeIo(), xs.dom0, UID_BASE);
    }

    @AfterEach
    void stop() {
        if (sim != null) {
            sim.close();
            xs.close();
        }
    }

    @Test
    void aGuestRunsAsItsDomainsUidAndCannotTouchAnotherDomain() throws Exception {
        Path binary = CFrontendTest.compile();
        int a = sim.create(new DomainConfig("tenant-a", 16, 1)).domid();
        int b = sim.create(new DomainConfig("tenant-b", 16, 1)).domid();
        assertThat(Files.getAttribute(sim.paths().memory(a), "unix:uid")).isEqualTo(UID_BASE + a);
        assertThat(Files.getAttribute(sim.paths().xenstoreSocket(a), "unix:uid")).isEqualTo(UID_BASE + a);

        for (String file : List.of("memory", "grant-table", "evtchn.sock", "xenstore.sock")) {
            Path other = sim.paths().domainDir(b).resolve(file);
            Path own = sim.paths().domainDir(a).resolve(file);
            assertThat(asGuest(a, "test", "-r", own.toString(), "-a", "-w", own.toString()).exit).as("own " + file).isZero();
            assertThat(asGuest(a, "test", "-r", other.toString()).exit).as("domain " + b + "'s " + file).isNotZero();
            assertThat(asGuest(a, "test", "-w", other.toString()).exit).as("domain " + b + "'s " + file).isNotZero();
        }
        assertThat(asGuest(a, "ls", sim.paths().domainsDir().toString()).exit).as("listing the domains").isNotZero();

        String fe = EchoProtocol.frontendPath(a);
        xs.dom0.mkdir(fe);
        xs.dom0.setPerms(fe, List.of(XsPerm.none(a), XsPerm.read(0)));
        try (EchoBackend backend = new EchoBackend(sim, sim, xs.dom0, a)) {
            Result r = asGuest(a, binary.toString(), dir.toString(), Integer.toString(a), "10000");
            assertThat(r.exit).as(r.output).isZero();
            assertThat(backend.served.get()).isEqualTo(10_000);
        }
    }

    record Result(int exit, String output) {
    }

    static Result asGuest(int domid, String... cmd) throws Exception {
        int id = UID_BASE + domid;
        List<String> full = new ArrayList<>(List.of("setpriv", "--reuid=" + id, "--regid=" + id, "--clear-groups"));
        full.addAll(List.of(cmd));
        Process p = new ProcessBuilder(full).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        return new Result(p.waitFor(), out);
    }
}
