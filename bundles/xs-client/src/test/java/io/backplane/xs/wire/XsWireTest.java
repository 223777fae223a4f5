package io.backplane.xs.wire;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The xs_wire descriptors against Xen's {@code xen/io/xs_wire.h}: src/test/c/xs_wire_layout.c
 * prints every offset, size, type code and limit as gcc sees them; this test compiles it, runs
 * it and compares line by line, both ways.
 */
class XsWireTest {
    private static final Path XS_WIRE_H = Path.of("/usr/include/xen/io/xs_wire.h");
    /** XS_* less the prefix, as XsWire names them. */
    private static final List<String> TYPES = List.of("CONTROL", "DIRECTORY", "READ", "GET_PERMS", "WATCH",
            "UNWATCH", "TRANSACTION_START", "TRANSACTION_END", "INTRODUCE", "RELEASE", "GET_DOMAIN_PATH", "WRITE",
            "MKDIR", "RM", "SET_PERMS", "WATCH_EVENT", "ERROR", "IS_DOMAIN_INTRODUCED", "RESUME", "SET_TARGET",
            "RESET_WATCHES", "DIRECTORY_PART");

    @Test
    void descriptorsMatchXsWireH() throws Exception {
        assertThat(XS_WIRE_H).as("Xen's public headers: apt-get install libxen-dev").exists();
        Path out = Files.createDirectories(Path.of("target/test-c")).resolve("xs_wire_layout");
        run("gcc", "-Wall", "-Werror", "-std=gnu11", "-o", out.toString(), "src/test/c/xs_wire_layout.c");
        Map<String, String> fromC = new TreeMap<>();
        for (String line : run(out.toString()).split("\n")) {
            int space = line.indexOf(' ');
            fromC.put(line.substring(0, space), line.substring(space + 1));
        }
        assertThat(expected()).isEqualTo(fromC);
    }

    @Test
    void everyTypeHasItsName() throws Exception {
        for (String t : TYPES) {
            assertThat(XsWire.typeName(XsWire.class.getField(t).getInt(null))).isEqualTo(t);
        }
        assertThat(XsWire.typeName(XsWire.TYPE_COUNT)).isEqualTo("type " + XsWire.TYPE_COUNT);
    }

    private static Map<String, String> expected() throws ReflectiveOperationException {
        Map<String, Object> e = new TreeMap<>();
        e.put("xsd_sockmsg.type", XsWire.TYPE_OFFSET);
        e.put("xsd_sockmsg.req_id", XsWire.REQ_ID_OFFSET);
        e.put("xsd_sockmsg.tx_id", XsWire.TX_ID_OFFSET);
        e.put("xsd_sockmsg.len", XsWire.LEN_OFFSET);
        e.put("sizeof.xsd_sockmsg", XsWire.HEADER_LENGTH);
        for (String t : TYPES) {
            e.put("XS_" + t, XsWire.class.getField(t).getInt(null));
        }
        e.put("XS_TYPE_COUNT", XsWire.TYPE_COUNT);
        e.put("XENSTORE_PAYLOAD_MAX", XsWire.PAYLOAD_MAX);
        e.put("XENSTORE_ABS_PATH_MAX", XsWire.ABS_PATH_MAX);
        e.put("XENSTORE_REL_PATH_MAX", XsWire.REL_PATH_MAX);

        e.put("xenstore_domain_interface.req", XenstoreDomainInterfaceDescriptor.REQ_OFFSET);
        e.put("xenstore_domain_interface.rsp", XenstoreDomainInterfaceDescriptor.RSP_OFFSET);
        e.put("xenstore_domain_interface.req_cons", XenstoreDomainInterfaceDescriptor.REQ_CONS_OFFSET);
        e.put("xenstore_domain_interface.req_prod", XenstoreDomainInterfaceDescriptor.REQ_PROD_OFFSET);
        e.put("xenstore_domain_interface.rsp_cons", XenstoreDomainInterfaceDescriptor.RSP_CONS_OFFSET);
        e.put("xenstore_domain_interface.rsp_prod", XenstoreDomainInterfaceDescriptor.RSP_PROD_OFFSET);
        e.put("xenstore_domain_interface.server_features", XenstoreDomainInterfaceDescriptor.SERVER_FEATURES_OFFSET);
        e.put("xenstore_domain_interface.connection", XenstoreDomainInterfaceDescriptor.CONNECTION_OFFSET);
        e.put("xenstore_domain_interface.error", XenstoreDomainInterfaceDescriptor.ERROR_OFFSET);
        e.put("sizeof.xenstore_domain_interface", XenstoreDomainInterfaceDescriptor.LENGTH);
        e.put("XENSTORE_RING_SIZE", XenstoreDomainInterfaceDescriptor.RING_SIZE);
        e.put("XENSTORE_SERVER_FEATURE_RECONNECTION", XenstoreDomainInterfaceDescriptor.XENSTORE_SERVER_FEATURE_RECONNECTION);
        e.put("XENSTORE_SERVER_FEATURE_ERROR", XenstoreDomainInterfaceDescriptor.XENSTORE_SERVER_FEATURE_ERROR);
        e.put("XENSTORE_CONNECTED", XenstoreDomainInterfaceDescriptor.XENSTORE_CONNECTED);
        e.put("XENSTORE_RECONNECT", XenstoreDomainInterfaceDescriptor.XENSTORE_RECONNECT);
        e.put("XENSTORE_ERROR_NONE", XenstoreDomainInterfaceDescriptor.XENSTORE_ERROR_NONE);
        e.put("XENSTORE_ERROR_COMM", XenstoreDomainInterfaceDescriptor.XENSTORE_ERROR_COMM);
        e.put("XENSTORE_ERROR_RINGIDX", XenstoreDomainInterfaceDescriptor.XENSTORE_ERROR_RINGIDX);
        e.put("XENSTORE_ERROR_PROTO", XenstoreDomainInterfaceDescriptor.XENSTORE_ERROR_PROTO);
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
