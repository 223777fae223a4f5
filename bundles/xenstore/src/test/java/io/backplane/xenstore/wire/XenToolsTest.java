package io.backplane.xenstore.wire;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Debian's unmodified xenstore-utils, python3-pyxs and a C program linked against libxenstore
 * drive the daemon through {@code XENSTORED_RUNDIR} and must get the answers a Xen 4.17
 * xenstored gives.
 */
class XenToolsTest {
    private DaemonFixture xs;

    @BeforeEach
    void start() throws Exception {
        DaemonFixture.requireTool("/usr/bin/xenstore-write", "xenstore-utils");
        xs = new DaemonFixture();
    }

    @AfterEach
    void stop() throws Exception {
        xs.close();
    }

    @Test
    void xenstoreUtilsWriteReadListLsExistsRmChmod() throws Exception {
        assertThat(xs.run("xenstore-write", "/vm/a", "hello", "/vm/b", "x y").exit()).isZero();
        assertThat(xs.run("xenstore-read", "/vm/a").out()).isEqualTo("hello\n");
        assertThat(xs.run("xenstore-list", "/vm").out()).isEqualTo("a\nb\n");
        assertThat(xs.run("xenstore-ls", "/").out()).isEqualTo(
                "tool = \"\"\n xenstored = \"\"\nvm = \"\"\n a = \"hello\"\n b = \"x y\"\n");
        assertThat(xs.run("xenstore-exists", "/vm/a").exit()).isZero();
        assertThat(xs.run("xenstore-exists", "/vm/nothing").exit()).isEqualTo(1);
        DaemonFixture.Result missing = xs.run("xenstore-read", "/vm/nothing");
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.err()).contains("couldn't read path /vm/nothing");

        assertThat(xs.run("xenstore-chmod", "/vm/a", "n0", "r5").exit()).isZero();
        assertThat(xs.run("xenstore-ls", "-p", "/vm").out()).containsPattern("a = \"hello\" [ .]*\\(n0,r5\\)\n");

        assertThat(xs.run("xenstore-rm", "/vm/a").exit()).isZero();
        assertThat(xs.run("xenstore-list", "/vm").out()).isEqualTo("b\n");
        assertThat(xs.run("xenstore-rm", "/vm/a").exit()).isZero(); // gone, parent there: OK
        assertThat(xs.run("xenstore-rm", "/nowhere/x").exit()).isEqualTo(1);

        // relative paths are under dom0's home on the dom0 socket
        assertThat(xs.run("xenstore-write", "name", "Domain-0").exit()).isZero();
        assertThat(xs.run("xenstore-read", "/local/domain/0/name").out()).isEqualTo("Domain-0\n");
        assertThat(xs.run("xenstore-write", "/bad path", "x").exit()).isEqualTo(1);
    }

    @Test
    void xenstoreWatchSeesTheInitialEventAndDescendants() throws Exception {
        xs.run("xenstore-write", "/w/a", "1");
        ProcessBuilder pb = new ProcessBuilder("xenstore-watch", "-n", "3", "/w");
        pb.environment().put("XENSTORED_RUNDIR", xs.socket().getParent().toString());
        Process watch = pb.start();
        try {
            // the immediate event proves the watch is registered before we write
            byte[] first = new byte[3];
            assertThat(watch.getInputStream().readNBytes(first, 0, 3)).isEqualTo(3);
            assertThat(new String(first)).isEqualTo("/w\n");
            xs.run("xenstore-write", "/w/a/b", "2");
            xs.run("xenstore-write", "/elsewhere", "3");
            xs.run("xenstore-rm", "/w/a");
            assertThat(watch.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(new String(watch.getInputStream().readAllBytes())).isEqualTo("/w/a/b\n/w/a\n");
        } finally {
            watch.destroyForcibly();
        }
    }

    @Test
    void pyxsClient() throws Exception {
        DaemonFixture.requireTool("/usr/bin/python3", "python3");
        String script = String.join("\n",
                "import errno, sys",
                "from pyxs import Client, PyXSError",
                "from pyxs._internal import Op",
                "with Client(unix_socket_path=sys.argv[1]) as c:",
                "    c.write(b'/py/k', b'v')",
                "    print(c.read(b'/py/k'), c.list(b'/py'), c.get_perms(b'/py/k'), c.exists(b'/py/none'))",
                "    print(c.get_domain_path(5), c.is_domain_introduced(5))",
                "    try:",
                "        c.read(b'/py/none')",
                "    except PyXSError as e:",
                "        print('read missing', errno.errorcode[e.args[0]])",
                "    c.set_perms(b'/py/k', [b'n0', b'b3'])",
                "    print(c.get_perms(b'/py/k'))",
                "    c.transaction(); c.write(b'/py/t', b'1'); print('commit', c.commit())",
                "    m = c.monitor()",
                "    m.watch(b'/py', b'tok')",
                "    events = m.wait()",
                "    print(next(events))",
                "    c.write(b'/py/w', b'2')",
                "    print(next(events))",
                "    try:",
                "        m.watch(b'/py', b'tok')",
                "    except PyXSError as e:",
                "        print('duplicate watch', errno.errorcode[e.args[0]])",
                "    c.introduce_domain(9, 4096, 3)",
                "    print(c.is_domain_introduced(9))",
                "    c.ack(Op.RELEASE, b'9\\x00')  # pyxs refuses release_domain unless it runs as root on xenfs",
                "    print(c.is_domain_introduced(9))",
                "");
        Path py = Files.createTempFile("pyxs", ".py");
        Files.writeString(py, script);
        try {
            DaemonFixture.Result r = xs.run(List.of("/usr/bin/python3", py.toString(), xs.socket().toString()), null);
            assertThat(r.err()).isEmpty();
            assertThat(r.out()).isEqualTo(String.join("\n",
                    "b'v' [b'k'] [b'n0'] False",
                    "b'/local/domain/5' False",
                    "read missing ENOENT",
                    "[b'n0', b'b3']",
                    "commit True",
                    "Event(path=b'/py', token=b'tok')",
                    "Event(path=b'/py/w', token=b'tok')",
                    "duplicate watch EEXIST",
                    "True",
                    "False",
                    ""));
        } finally {
            Files.deleteIfExists(py);
        }
    }

    @Test
    void libxenstoreTransactionsConflictAndDirectoryPart() throws Exception {
        Path exe = compile("xs_client");
        DaemonFixture.Result r = xs.run(exe.toAbsolutePath().toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("commit ok\nconflict EAGAIN\ndirectory 300\n");
    }

    /** Every case of Xen's tools/tests/xenstore/test-xenstore.c, "ta err" included. */
    @Test
    void xenTestXenstoreCases() throws Exception {
        Path exe = compile("xs_test_cases");
        DaemonFixture.Result r = xs.run(exe.toAbsolutePath().toString());
        assertThat(r.out()).as(r.err()).isEqualTo(String.join("\n",
                "read 1: ok", "read 2000: ok", "write 1: ok", "write 2000: ok", "dir: ok", "rm node: ok",
                "rm dir: ok", "ta empty: ok", "ta empty x: ok", "ta rmw: ok", "ta rmw x: ok", "ta err: ok", ""));
        assertThat(r.exit()).isZero();
        assertThat(xs.run("xenstore-list", "/local/domain/0").out()).isEmpty(); // cleaned up after itself
    }

    /** Builds src/test/c/NAME.c against libxenstore into target/. */
    private Path compile(String name) throws Exception {
        DaemonFixture.requireTool("/usr/bin/gcc", "gcc");
        if (!Files.exists(Path.of("/usr/include/xenstore.h"))) {
            throw new AssertionError("/usr/include/xenstore.h is missing: install the Debian package libxen-dev");
        }
        Path exe = Path.of("target", name);
        DaemonFixture.Result cc = xs.run("gcc", "-Wall", "-Werror", "-o", exe.toString(), "src/test/c/" + name + ".c", "-lxenstore");
        assertThat(cc.exit()).as(cc.err()).isZero();
        return exe;
    }
}
