package io.backplane.hypervisor.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.hypervisor.DomainState;
import io.backplane.nativeio.NativeIo;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The runnable guest jar, as the toolstack starts it: {@code java -jar}, nothing else on the classpath. */
class GuestJarIT {
    @TempDir
    Path dir;

    @Test
    void theShadedJarAttachesToItsDomainAndLeavesWhenDestroyed() throws Exception {
        Path jar = Path.of(System.getProperty("guest.jar"));
        assertThat(jar).exists();
        SimHypervisor sim = SimHypervisor.start(dir, new NativeIo(), null, -1);
        try {
            int domid = sim.create(new DomainConfig("jarred", 32, 1)).domid();
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            try (GuestProcess usage = GuestProcess.start(dir, "usage", List.of(java, "-jar", jar.toString()))) {
                assertThat(usage.waitFor(60)).isEqualTo(2);
                assertThat(usage.output()).contains("usage: java -jar backplane-guest.jar");
            }
            try (GuestProcess guest = GuestProcess.start(dir, "guest", List.of(java, "-jar", jar.toString(),
                    "--state-dir", dir.toString(), "--domid", Integer.toString(domid)))) {
                RingAcceptanceTest.waitFor(() -> guest.output().contains("attached"));
                assertThat(guest.output()).contains("domain " + domid + ": attached, 32 pages, 512 grant entries");
                assertThat(sim.guestConnections(domid)).isEqualTo(1);
                sim.destroy(domid);
                assertThat(guest.waitFor(30)).as(guest.output()).isZero();
                assertThat(guest.output()).contains("destroyed by the hypervisor");
            }
            int second = sim.create(new DomainConfig("stopped", 32, 1)).domid();
            try (GuestProcess guest = GuestProcess.start(dir, "guest2", List.of(java, "-jar", jar.toString(),
                    "--state-dir", dir.toString(), "--domid", Integer.toString(second)))) {
                RingAcceptanceTest.waitFor(() -> guest.output().contains("attached"));
                guest.process.destroy(); // SIGTERM: the guest powers off on its way out
                guest.waitFor(30);
                RingAcceptanceTest.waitFor(() -> sim.info(second).orElseThrow().state() == DomainState.SHUTDOWN);
                assertThat(sim.info(second).orElseThrow().shutdownReason()).hasToString("POWEROFF");
            }
        } finally {
            sim.close();
        }
    }
}
