package io.backplane.hypervisor.sim.abi;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.hypervisor.DomainConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * sim_guest.h (the C side of this ABI) against EvtchnWire and SimPaths (its Java side):
 * src/test/c/sim_guest_abi.c, built with gcc on the header as {@link SimGuestHeader} copies it out
 * of the jar, prints every offset, code and name as gcc sees them; compared line by line, both ways.
 */
class SimGuestHeaderTest {

    @Test
    void theCHeaderSaysWhatEvtchnWireAndSimPathsSay() throws Exception {
        assertThat(Path.of("/usr/include/xenstore.h")).as("Xen's headers and libxenstore: apt-get install libxen-dev").exists();
        Path include = Path.of("target/test-c/include").toAbsolutePath();
        assertThat(SimGuestHeader.copyTo(include)).isEqualTo(include.resolve("backplane/sim_guest.h")).isRegularFile();
        Path out = include.resolveSibling("sim_guest_abi");
        run("gcc", "-Wall", "-Wextra", "-Werror", "-I", include.toString(), "-o", out.toString(),
                "src/test/c/sim_guest_abi.c", "-lxenstore");
        Map<String, String> fromC = new TreeMap<>();
        for (String line : run(out.toString()).split("\n")) {
            int space = line.indexOf(' ');
            fromC.put(line.substring(0, space), line.substring(space + 1));
        }
        assertThat(fromC).isEqualTo(expected());
    }

    private static Map<String, String> expected() {
        Map<String, Object> e = new TreeMap<>();
        e.put("sim_evtchn_msg.op", EvtchnWire.OP_OFFSET);
        e.put("sim_evtchn_msg.port", EvtchnWire.PORT_OFFSET);
        e.put("sim_evtchn_msg.arg", EvtchnWire.ARG_OFFSET);
        e.put("sim_evtchn_msg.result", EvtchnWire.RESULT_OFFSET);
        e.put("sizeof.sim_evtchn_msg", EvtchnWire.MESSAGE_LENGTH);
        e.put("SIM_EVTCHN_BIND_UNBOUND", EvtchnWire.OP_BIND_UNBOUND);
        e.put("SIM_EVTCHN_BIND_INTERDOMAIN", EvtchnWire.OP_BIND_INTERDOMAIN);
        e.put("SIM_EVTCHN_NOTIFY", EvtchnWire.OP_NOTIFY);
        e.put("SIM_EVTCHN_CLOSE", EvtchnWire.OP_CLOSE);
        e.put("SIM_EVTCHN_SHUTDOWN", EvtchnWire.OP_SHUTDOWN);
        e.put("SIM_EVTCHN_STATUS", EvtchnWire.OP_STATUS);
        e.put("SIM_EVTCHN_STREAM_TOKEN", EvtchnWire.OP_STREAM_TOKEN);
        e.put("SIM_EVTCHN_ATTACH_STREAM", EvtchnWire.OP_ATTACH_STREAM);
        e.put("SIM_EVTCHN_MASKED", EvtchnWire.STATUS_MASKED);
        e.put("SIM_EVTCHN_PENDING", EvtchnWire.STATUS_PENDING);
        e.put("SIM_EVTCHN_REPLY", EvtchnWire.REPLY);
        e.put("sizeof.port", EvtchnWire.PORT_LENGTH);
        e.put("SIM_PAGE_SIZE", DomainConfig.PAGE_SIZE);
        e.put("SIM_MEMORY", SimPaths.MEMORY);
        e.put("SIM_GRANT_TABLE", SimPaths.GRANT_TABLE);
        e.put("SIM_EVTCHN_SOCKET", SimPaths.EVTCHN_SOCKET);
        e.put("SIM_XENSTORE_SOCKET", SimPaths.XENSTORE_SOCKET);
        Map<String, String> asText = new TreeMap<>();
        e.forEach((k, v) -> asText.put(k, String.valueOf(v)));
        return asText;
    }

    /** Runs a command to its end and returns its output; a failure shows the output. */
    private static String run(String... cmd) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            throw new AssertionError(cmd[0] + " could not be started (gcc: apt-get install gcc): " + e.getMessage());
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as(String.join(" ", cmd)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + ":\n" + out).isZero();
        return out;
    }
}
