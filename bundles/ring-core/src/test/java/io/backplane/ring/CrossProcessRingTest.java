package io.backplane.ring;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.ring.layout.SharedRingDescriptor;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The ring across two OS processes sharing a file in /dev/shm: a frontend in a child process
 * (a Java one, then a C one built with gcc on Xen's ring.h macros) and the Java BackRing here.
 * A million requests each way, every request field checked by the backend and every response
 * by the frontend. The C frontend proves the Java side byte-compatible with ring.h.
 */
class CrossProcessRingTest {

    private static final int TOTAL = 1_000_000;
    private static final long TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(120);
    private static final LegacyRingLayout LAYOUT = LegacyRingLayout.ofPages(1, SharedRingDescriptor.NETIF_TX_ENTRY_LENGTH);

    private Path file;
    private Process frontend;

    @AfterEach
    void cleanUp() throws IOException {
        if (frontend != null && frontend.isAlive()) {
            frontend.destroyForcibly();
        }
        if (file != null) {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void javaFrontendInAChildJvmAgainstJavaBackend() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path base = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();
        String classpath = base.resolve("target/classes") + ":" + base.resolve("target/test-classes");
        exchange(List.of(java, "-Xmx64m", "-cp", classpath, NetifTxFrontendMain.class.getName()), 32);
    }

    @Test
    void cFrontendOnXenRingMacrosAgainstJavaBackend() throws Exception {
        Path netfront = NativeTools.compile("netfront_tx", "netfront_tx.c");
        exchange(List.of(netfront.toString()), 8);
    }

    private BufferedReader startFrontend(List<String> command, int batch) throws IOException {
        file = SharedMemoryFile.create("backplane-ring-test-", LAYOUT.bytes());
        List<String> cmd = new ArrayList<>(command);
        cmd.addAll(List.of(file.toString(), Integer.toString(TOTAL), Integer.toString(batch)));
        frontend = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(frontend.getInputStream(), StandardCharsets.UTF_8));
        String ready = out.readLine();
        assertThat(ready).as("the frontend's first line, once it initialised the ring").isEqualTo("ready");
        return out;
    }

    private void exchange(List<String> command, int batch) throws Exception {
        BufferedReader out = startFrontend(command, batch);
        // The frontend initialised the shared ring (SHARED_RING_INIT); now the backend attaches.
        BackRing back = BackRing.attach(SharedMemoryFile.map(file, LAYOUT.bytes()), LAYOUT);
        TxBackend.Result result = TxBackend.serve(back, TOTAL, frontend, TIMEOUT_NANOS);

        assertThat(frontend.waitFor(60, TimeUnit.SECONDS)).as("frontend finishes").isTrue();
        String summary = out.readLine();
        assertThat(frontend.exitValue()).as("frontend exit status (its stderr names a bad response)").isZero();
        assertThat(result.bad()).as("requests whose fields the backend found wrong").isZero();
        assertThat(result.consumed()).isEqualTo(TOTAL);
        assertThat(summary).startsWith("sent " + TOTAL + " answered " + TOTAL + " ");
        assertThat(back.requestConsumer()).isEqualTo(TOTAL);
        assertThat(back.buffer().getInt(SharedRingDescriptor.REQ_PROD_OFFSET)).isEqualTo(TOTAL);
        assertThat(back.buffer().getInt(SharedRingDescriptor.RSP_PROD_OFFSET)).isEqualTo(TOTAL);
    }
}
