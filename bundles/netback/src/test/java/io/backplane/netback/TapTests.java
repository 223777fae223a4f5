package io.backplane.netback;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/** What the tests on a real TAP device need from the host, checked once for all of them. */
final class TapTests {
    private TapTests() {
    }

    /** Skips {@code test} (saying why) unless it runs as root with /dev/net/tun, ip and, when asked, ping. */
    static void assumeTapUsable(Class<?> test, boolean needsPing) {
        String missing = !"root".equals(System.getProperty("user.name")) ? "not running as root"
                : !Files.exists(Path.of("/dev/net/tun")) ? "/dev/net/tun is missing"
                : needsPing && !Files.isExecutable(Path.of("/usr/bin/ping")) && !Files.isExecutable(Path.of("/bin/ping"))
                        ? "ping is missing (apt-get install iputils-ping)"
                : !Files.isExecutable(Path.of("/usr/sbin/ip")) && !Files.isExecutable(Path.of("/sbin/ip"))
                        ? "ip is missing (apt-get install iproute2)" : "";
        if (!missing.isEmpty()) {
            System.out.println(test.getSimpleName() + " skipped: " + missing);
        }
        Assumptions.assumeTrue(missing.isEmpty(), missing);
    }
}
