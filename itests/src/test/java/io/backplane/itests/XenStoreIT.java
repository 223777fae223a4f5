package io.backplane.itests;

import static org.hamcrest.CoreMatchers.containsString;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThat;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import javax.inject.Inject;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

import io.backplane.api.xenstore.XenStore;
import io.backplane.control.client.ControlClient;

/**
 * The XenStore bundle in the runtime: its service is registered, the xs: commands work through
 * the control socket, and Debian's xenstore-utils reach the daemon of the running framework.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class XenStoreIT extends RuntimeTestBase {
    @Inject
    private XenStore xenStore;

    /** Status, output and error of one command line, failed or not. */
    private RuntimeShell.Answer answer(String command) throws IOException {
        return new RuntimeShell(stateDir()).run(command);
    }

    @Test
    public void theXenStoreServiceServesTheStore() {
        xenStore.write("/local/domain/0/itest/service", "from the service");
        assertEquals("from the service", xenStore.read("/local/domain/0/itest/service"));
    }

    @Test
    public void everyXsCommandIsListedWithItsDescription() throws IOException {
        RuntimeShell.Answer help = answer("bp:help");
        assertEquals(0, help.status());
        for (String command : new String[] {"xs:ls", "xs:read", "xs:write", "xs:rm", "xs:perms", "xs:watch", "xs:stat"}) {
            String line = help.out().lines().filter(l -> l.startsWith(command + " ")).findFirst().orElse("");
            assertTrue(command + " listed with a description: '" + line + "'", line.length() > command.length() + 3
                    && !line.contains("(no description)"));
        }
        RuntimeShell.Answer write = answer("bp:help xs:write");
        assertEquals(0, write.status());
        assertThat(write.out(), containsString("xs:write - Write a node's value"));
        assertThat(write.out(), containsString("node path"));
    }

    @Test
    public void xsWriteThenReadThenLsThroughTheControlSocket() throws IOException {
        String path = "/local/domain/0/backend/vif/1/0/request-multi-queue-max-queues";
        assertEquals(new RuntimeShell.Answer(0, "", ""), answer("xs:write " + path + " 4"));
        assertEquals(new RuntimeShell.Answer(0, "4\n", ""), answer("xs:read " + path));
        RuntimeShell.Answer ls = answer("xs:ls /local/domain/0/backend/vif/1");
        assertEquals(0, ls.status());
        assertThat(ls.out(), containsString("request-multi-queue-max-queues = \"4\""));
        assertEquals("the shell and the service share one store", "4", xenStore.read(path));
        assertEquals(new RuntimeShell.Answer(0, "", ""), answer("xs:rm /local/domain/0/backend/vif/1"));
    }

    @Test
    public void aFailingXsCommandPrintsOneLineAndFails() throws IOException {
        RuntimeShell.Answer missing = answer("xs:read /local/domain/0/no/such/node");
        assertEquals(1, missing.status());
        assertEquals("one line on stderr: " + missing.err(), 1, missing.err().lines().count());
        assertThat(missing.err(), containsString("ENOENT"));
    }

    @Test
    public void debiansXenstoreToolsReachTheDaemonOfTheRunningRuntime() throws Exception {
        if (!Files.isExecutable(Path.of("/usr/bin/xenstore-read"))) {
            fail("xenstore-read not found: install the Debian package xenstore-utils (./backplane test does as root)");
        }
        xenStore.write("/local/domain/0/itest/tool", "seen by xenstore-read");
        ProcessBuilder read = new ProcessBuilder("/usr/bin/xenstore-read", "/local/domain/0/itest/tool").redirectErrorStream(true);
        read.environment().put("XENSTORED_RUNDIR", stateDir().resolve("xenstored").toString());
        Process process = read.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue("xenstore-read finished", process.waitFor(30, TimeUnit.SECONDS));
        assertEquals(output, 0, process.exitValue());
        assertEquals("seen by xenstore-read\n", output);
    }

    @Test
    public void xsWatchStreamsEventsThroughTheControlSocket() throws Exception {
        String path = "/local/domain/0/itest/watched";
        xenStore.write(path, "0");
        try (ControlClient client = ControlClient.connect(ControlClient.socketIn(stateDir()))) {
            StringBuffer seen = new StringBuffer();
            OutputStream sink = new OutputStream() {
                @Override
                public void write(int b) {
                    seen.append((char) b);
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    seen.append(new String(b, off, len, StandardCharsets.UTF_8));
                }
            };
            int[] status = {-1};
            Thread watcher = new Thread(() -> {
                try {
                    // The registration fires once, then the write below fires again.
                    status[0] = client.run("xs:watch -n 2 " + path, sink, sink);
                } catch (IOException e) {
                    seen.append("IOException: ").append(e.getMessage());
                }
            });
            watcher.start();
            long deadline = System.currentTimeMillis() + 10_000;
            while (!seen.toString().contains(path) && System.currentTimeMillis() < deadline) {
                Thread.sleep(20);
            }
            xenStore.write(path, "1");
            watcher.join(10_000);
            assertEquals("watch ended after two events; output: " + seen, 0, status[0]);
            assertEquals(seen.toString(), 2, seen.toString().lines().filter(l -> l.contains(path)).count());
        }
    }
}
