package io.backplane.hypervisor.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.hypervisor.DomainState;
import io.backplane.api.hypervisor.GrantException;
import io.backplane.api.hypervisor.GrantMapping;
import io.backplane.api.hypervisor.GrantStatus;
import io.backplane.api.xenstore.XsPerm;
import io.backplane.hypervisor.sim.abi.SimGuestHeader;
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
            assertThat(guest.output()).contains(COUNT + " responses checked").containsPattern("port [0-9]+ status [0-3]");
            assertThat(xs.dom0.read(fe + "/checked")).isEqualTo(Long.toString(COUNT));
            assertThat(backend.served.get()).isEqualTo(COUNT);
        }
        RingAcceptanceTest.waitFor(() -> sim.info(domid).map(i -> i.state() == DomainState.SHUTDOWN).orElse(false));
    }

    @Test
    void bogusGrantsFromACGuestAreRefusedWithXensCodesAndDom0KeepsWorking() throws Exception {
        Path binary = compile("bogus_grants");
        int domid = sim.create(new DomainConfig("c-bogus", 16, 1)).domid();
        try (GuestProcess guest = GuestProcess.start(dir, "bogus_grants",
                List.of(binary.toString(), dir.toString(), Integer.toString(domid)))) {
            RingAcceptanceTest.waitFor(() -> guest.output().contains("READY"));
            assertRefused(domid, 8, true, GrantStatus.GENERAL_ERROR);   // granted to domain 7
            assertRefused(domid, 9, true, GrantStatus.GENERAL_ERROR);   // read-only, mapped writable
            assertRefused(domid, 10, false, GrantStatus.BAD_PAGE);      // frame beyond the guest's memory
            assertRefused(domid, 11, false, GrantStatus.GENERAL_ERROR); // no GTF_permit_access
            assertRefused(domid, 12, false, GrantStatus.GENERAL_ERROR); // GTF_sub_page cannot be mapped
            assertRefused(domid, 16 * 512, false, GrantStatus.BAD_GNTREF);
            try (GrantMapping ro = sim.map(domid, new int[] {9}, false);
                 GrantMapping good = sim.map(domid, new int[] {13}, true)) {
                assertThat(good.buffer().getInt(0)).isEqualTo(0xfeedface);
                assertThat(ro.buffer().getInt(0)).isEqualTo(0xfeedface);
            }
            GrantMapping held = sim.map(domid, new int[] {13}, true);
            sim.destroy(domid);
            assertThat(guest.waitFor(30)).as(guest.output()).isZero();
            // GTF_reading|GTF_writing stayed set: the guest saw its page in use until the end.
            assertThat(guest.output()).contains("entry 13 flags 0x19").contains("entry 9 flags 0x5");
            held.close();
        }
    }

    /**
     * A C guest reads 4-byte ports from its event stream and re-arms by writing them, as on
     * /dev/xen/evtchn: a second and third notify before the re-arm deliver nothing until it,
     * then exactly one.
     */
    @Test
    void aCGuestReadsPortsFromTheEventStreamAndReArmsByWritingThem() throws Exception {
        Path binary = compile("evtchn_stream");
        int domid = sim.create(new DomainConfig("c-stream", 16, 1)).domid();
        try (GuestProcess guest = GuestProcess.start(dir, "evtchn_stream",
                List.of(binary.toString(), dir.toString(), Integer.toString(domid)))) {
            RingAcceptanceTest.waitFor(() -> guest.output().contains("PORT "));
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("PORT ([0-9]+)").matcher(guest.output());
            assertThat(m.find()).isTrue();
            io.backplane.api.hypervisor.EventChannel dom0End = sim.bindInterdomain(domid, Integer.parseInt(m.group(1)), ch -> { });
            dom0End.notifyRemote();
            RingAcceptanceTest.waitFor(() -> guest.output().contains("GOT 1"));
            dom0End.notifyRemote();
            dom0End.notifyRemote();
            assertThat(guest.waitFor(30)).as(guest.output()).isZero();
            assertThat(guest.output()).contains("masking checked");
            dom0End.close();
        }
    }

    private void assertRefused(int domid, int ref, boolean writable, GrantStatus expected) {
        assertThatThrownBy(() -> sim.map(domid, new int[] {ref}, writable))
                .isInstanceOfSatisfying(GrantException.class, e -> assertThat(e.status()).as("ref " + ref).isEqualTo(expected));
    }

    static Path compile() throws Exception {
        return compile("echo_front");
    }

    /**
     * gcc against Xen's headers, libxenstore and sim-abi's sim_guest.h (from the class path); a
     * missing tool fails with the package to install.
     */
    static Path compile(String program) throws Exception {
        Path source = Path.of("src/test/c/" + program + ".c").toAbsolutePath();
        Path binary = Path.of("target/" + program).toAbsolutePath();
        Path include = Path.of("target/test-c/include").toAbsolutePath();
        SimGuestHeader.copyTo(include);
        assertThat(Path.of("/usr/include/xen/io/ring.h")).as("Xen's headers: apt-get install libxen-dev").exists();
        assertThat(Path.of("/usr/include/xenstore.h")).as("libxenstore's header: apt-get install libxen-dev").exists();
        Process gcc;
        try {
            gcc = new ProcessBuilder("gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-I", include.toString(), "-o", binary.toString(),
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
