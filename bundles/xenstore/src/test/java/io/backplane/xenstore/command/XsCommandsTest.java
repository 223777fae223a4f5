package io.backplane.xenstore.command;

import io.backplane.api.log.OperatorLog;
import io.backplane.api.xenstore.XenStore;
import io.backplane.xenstore.XenStoreStatus;
import io.backplane.xenstore.client.EmbeddedXenStore;
import io.backplane.xenstore.store.Quotas;
import io.backplane.xenstore.store.Store;
import io.backplane.xenstore.store.StoreStats;
import io.backplane.xenstore.wire.XenStoreDaemon;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class XsCommandsTest {
    private Path stateDir;
    private Store store;
    private XenStoreDaemon daemon;
    private EmbeddedXenStore xs;
    private XsCommands commands;

    @BeforeEach
    void setUp() throws Exception {
        stateDir = Files.createTempDirectory("xs-cmd");
        store = new Store(Quotas.XEN_4_17);
        daemon = new XenStoreDaemon(store, stateDir, OperatorLog.stderrWarnings("xenstored"));
        daemon.start();
        xs = new EmbeddedXenStore(store);
        commands = new XsCommands(xs, new XenStoreStatus() {
            @Override
            public String mode() {
                return "embedded";
            }

            @Override
            public String socket() {
                return daemon.dom0Socket().toString();
            }

            @Override
            public Optional<StoreStats> stats() {
                return Optional.of(store.stats());
            }

            @Override
            public int openConnections() {
                return daemon.openConnections();
            }
        });
    }

    @AfterEach
    void tearDown() throws Exception {
        xs.close();
        daemon.close();
        Files.deleteIfExists(stateDir.resolve("domains"));
        Files.deleteIfExists(stateDir.resolve("xenstored"));
        Files.deleteIfExists(stateDir);
    }

    @Test
    void lsPrintsWhatXenstoreLsPrints() throws Exception {
        commands.write("/vm/a", "hello");
        commands.write("/vm/b/c", "tab\there \\ \"q\"");
        commands.write("name", "Domain-0");
        // Long values and names: xenstore-ls keeps each line to 80 columns, cutting with \...
        commands.write("/vm/long", "v".repeat(300));
        commands.write("/vm/b/deep/" + "n".repeat(75), "x".repeat(20));
        commands.write("/vm/b/fits", "f".repeat(80 - 8 - 2 - 4));
        commands.write("/vm/b/over", "o".repeat(80 - 8 - 2 - 4 + 1));
        commands.write("/vm/esc", "\t".repeat(40));
        ProcessBuilder pb = new ProcessBuilder("xenstore-ls", "/");
        pb.environment().put("XENSTORED_RUNDIR", daemon.dom0Socket().getParent().toString());
        Process p = pb.start();
        String real = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).isZero();
        assertThat(real).contains(" long = \"" + "v".repeat(80 - 8 - 5) + "\\...\"\n");
        assertThat(commands.ls()).isEqualTo(real);
        commands.rm("/vm/long");
        commands.rm("/vm/esc");
        commands.rm("/vm/b/deep");
        commands.rm("/vm/b/fits");
        commands.rm("/vm/b/over");
        assertThat(commands.ls("/vm")).isEqualTo("a = \"hello\"\nb = \"\"\n c = \"tab\\there \\\\ \\\"q\\\"\"\n".replace("\\\"q\\\"", "\"q\""));
    }

    @Test
    void readPermsRmAndOneLineErrors() {
        commands.write("/x", "1");
        assertThat(commands.read("/x")).isEqualTo("1");
        assertThat(commands.perms("/x", "n0", "r5")).isEqualTo("n0 r5");
        assertThat(commands.perms("/x")).isEqualTo("n0 r5");
        commands.rm("/x");
        assertThatThrownBy(() -> commands.read("/x")).hasMessage("xs:read /x: no such node (ENOENT)");
        assertThatThrownBy(() -> commands.write("/bad path", "1")).hasMessage("xs:write /bad path: invalid path or argument (EINVAL)");
    }

    /** The shell writes as dom0 in process, yet gets xs_wire's limits as xenstore-write would. */
    @Test
    void writeOverTheWireLimitIsRefusedAndTheLargestThatFitsIsReadableByXenTools() throws Exception {
        String tooBig = "xs:write /big: over XenStore's 4096-byte request size, or too many watches (E2BIG)";
        assertThatThrownBy(() -> commands.write("/big", "v".repeat(5000))).hasMessage(tooBig);
        assertThatThrownBy(() -> commands.write("/big", "v".repeat(1 << 20))).hasMessage(tooBig);
        // "/big" NUL value: 4 + 1 + 4091 bytes is exactly one payload
        assertThatThrownBy(() -> commands.write("/big", "v".repeat(4092))).hasMessage(tooBig);
        assertThatThrownBy(() -> commands.read("/big")).hasMessage("xs:read /big: no such node (ENOENT)");
        commands.write("/big", "v".repeat(4091));

        ProcessBuilder pb = new ProcessBuilder("xenstore-read", "/big");
        pb.environment().put("XENSTORED_RUNDIR", daemon.dom0Socket().getParent().toString());
        Process p = pb.start();
        String real = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).isZero();
        assertThat(real).isEqualTo("v".repeat(4091) + "\n");

        String longPath = "/" + "p".repeat(5000);
        assertThatThrownBy(() -> commands.read(longPath)).hasMessage("xs:read " + longPath
                + ": over XenStore's 4096-byte request size, or too many watches (E2BIG)");
        assertThatThrownBy(() -> commands.write("/" + "p".repeat(3100), "x"))
                .hasMessageEndingWith("invalid path or argument (EINVAL)"); // XENSTORE_ABS_PATH_MAX
    }

    @Test
    void watchStreamsEventsOnTheCommandThread() throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream old = System.out;
        Thread t = new Thread(() -> commands.watch(3, "/w"));
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            t.start();
            while (!buf.toString(StandardCharsets.UTF_8).contains("/w\n")) {
                Thread.sleep(10);
            }
            xs.write("/w/a", "1");
            xs.write("/w/b", "2");
            t.join(10_000);
        } finally {
            System.setOut(old);
        }
        assertThat(t.isAlive()).isFalse();
        assertThat(buf.toString(StandardCharsets.UTF_8)).isEqualTo("/w\n/w/a\n/w/b\n");
        assertThat(store.stats().watches()).isZero();

        Thread endless = new Thread(() -> commands.watch(0, "/w"));
        endless.start();
        while (store.stats().watches() == 0) {
            Thread.sleep(10);
        }
        endless.interrupt(); // what Ctrl-C does to a Gogo command
        endless.join(10_000);
        assertThat(endless.isAlive()).isFalse();
        assertThat(store.stats().watches()).isZero();
    }

    @Test
    void statShowsCountsAndQuotaUse() {
        xs.introduceDomain(5, 1, 1);
        xs.write("/local/domain/5/x", "");
        xs.setPerms("/local/domain/5/x", java.util.List.of(io.backplane.api.xenstore.XsPerm.none(5)));
        String stat = commands.stat();
        assertThat(stat).contains("mode: embedded", "nodes: 7", "connections: 1", "watches: 0", "transactions: 0");
        assertThat(stat).containsPattern("5 +yes +1/1000 +0/128 +0");
    }
}
