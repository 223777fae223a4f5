package io.backplane.xenstore.wire;

import io.backplane.api.xenstore.XsError;
import io.backplane.api.xenstore.XsException;
import io.backplane.api.xenstore.XsPerm;
import io.backplane.api.xenstore.XsTransaction;
import io.backplane.xs.client.SocketXenStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Real clients through {@code <state>/domains/<domid>/xenstore.sock} act as that guest: EACCES on
 * other domains' nodes and on privileged operations, and the 4.17 quotas.
 */
class DomainSocketTest {
    private DaemonFixture xs;
    private SocketXenStore dom0;

    @BeforeEach
    void start() throws Exception {
        DaemonFixture.requireTool("/usr/bin/xenstore-read", "xenstore-utils");
        xs = new DaemonFixture();
        dom0 = new SocketXenStore(xs.socket());
        for (int domid : new int[] {5, 6}) {
            dom0.introduceDomain(domid, 0x1000 + domid, 1);
            dom0.mkdir("/local/domain/" + domid);
            dom0.setPerms("/local/domain/" + domid, List.of(XsPerm.none(domid), XsPerm.read(0)));
        }
        dom0.write("/local/domain/6/secret", "s");
    }

    @AfterEach
    void stop() throws Exception {
        dom0.close();
        xs.close();
    }

    private Path guestSocket(int domid) {
        return XenStoreDaemon.domainSocket(xs.stateDir, domid);
    }

    private DaemonFixture.Result asGuest(int domid, String... command) throws Exception {
        return xs.run(List.of(command), guestSocket(domid));
    }

    @Test
    void socketFollowsIntroduceAndRelease() throws Exception {
        assertThat(guestSocket(5)).exists();
        assertThat(guestSocket(7)).doesNotExist();
        dom0.introduceDomain(7, 1, 1);
        assertThat(guestSocket(7)).exists();
        try (SocketXenStore g7 = new SocketXenStore(guestSocket(7))) {
            dom0.releaseDomain(7);
            assertThat(guestSocket(7)).doesNotExist();
            assertThrows(XsException.class, () -> g7.read("/"));
        }
    }

    /**
     * Several reads sent together (XsOps.tryReadAll): each reply goes to its own read, in order;
     * a missing node is empty; a refused one fails the call only after every reply was taken, so
     * the connection's next request gets its own answer.
     */
    @Test
    void readsSentTogetherGetTheirOwnRepliesInOrder() throws Exception {
        for (int i = 0; i < 40; i++) {
            dom0.write("/local/domain/5/data/ring-ref" + i, Integer.toString(1000 + i));
        }
        List<String> paths = new java.util.ArrayList<>();
        for (int i = 0; i < 40; i++) {
            paths.add("/local/domain/5/data/ring-ref" + i);
        }
        paths.add(3, "/local/domain/5/data/missing");
        List<java.util.Optional<String>> values = dom0.tryReadAll(paths);
        assertThat(values).hasSize(41);
        assertThat(values.get(3)).isEmpty();
        assertThat(values.get(0)).contains("1000");
        assertThat(values.get(40)).contains("1039");
        assertThat(values.get(20)).contains("1019");
        try (SocketXenStore g5 = new SocketXenStore(guestSocket(5))) {
            XsException refused = assertThrows(XsException.class,
                    () -> g5.tryReadAll(List.of("data/ring-ref0", "/local/domain/6/secret", "data/ring-ref1")));
            assertThat(refused.error()).isEqualTo(XsError.EACCES);
            assertThat(g5.read("data/ring-ref2")).isEqualTo("1002");
        }
    }

    /**
     * A transaction's reads and writes sent together (XsOps.tryReadAllThenWrite, a claim's one
     * round trip): the reads answer as before the writes, the writes count only once committed,
     * an abort undoes them; a refused write fails the call after every reply was taken.
     */
    @Test
    void readsAndWritesSentTogetherInATransaction() throws Exception {
        dom0.write("/local/domain/5/owner", "old");
        XsTransaction aborted = dom0.begin();
        assertThat(aborted.tryReadAllThenWrite(List.of("/local/domain/5/owner", "/local/domain/5/files"),
                new java.util.LinkedHashMap<>(java.util.Map.of("/local/domain/5/owner", "new"))))
                .containsExactly(java.util.Optional.of("old"), java.util.Optional.empty());
        assertThat(dom0.read("/local/domain/5/owner")).as("not before the commit").isEqualTo("old");
        aborted.abort();
        assertThat(dom0.read("/local/domain/5/owner")).isEqualTo("old");

        XsTransaction tx = dom0.begin();
        assertThat(tx.tryReadAllThenWrite(List.of("/local/domain/5/owner"), java.util.Map.of("/local/domain/5/owner", "new")))
                .containsExactly(java.util.Optional.of("old"));
        tx.commit();
        assertThat(dom0.read("/local/domain/5/owner")).isEqualTo("new");

        try (SocketXenStore g5 = new SocketXenStore(guestSocket(5))) {
            XsException refused = assertThrows(XsException.class, () -> g5.tryReadAllThenWrite(List.of("data/ring-ref0"),
                    java.util.Map.of("/local/domain/6/x", "1")));
            assertThat(refused.error()).isEqualTo(XsError.EACCES);
            assertThat(g5.tryRead("/local/domain/5/owner")).contains("new");
        }
    }

    @Test
    void xenstoreUtilsAsAGuest() throws Exception {
        assertThat(asGuest(5, "xenstore-write", "data/x", "1").exit()).isZero();
        assertThat(asGuest(5, "xenstore-read", "data/x").out()).isEqualTo("1\n");
        assertThat(dom0.getPerms("/local/domain/5/data/x")).containsExactly(XsPerm.none(5), XsPerm.read(0));

        DaemonFixture.Result other = asGuest(5, "xenstore-read", "/local/domain/6/secret");
        assertThat(other.exit()).isEqualTo(1);
        assertThat(asGuest(5, "xenstore-write", "/local/domain/6/x", "1").exit()).isEqualTo(1);
        assertThat(asGuest(5, "xenstore-ls", "/local/domain/6").exit()).isEqualTo(1);
        assertThat(dom0.exists("/local/domain/6/x")).isFalse();
    }

    @Test
    void guestGetsEaccesOnOtherDomainsAndPrivilegedOps() throws Exception {
        try (SocketXenStore g5 = new SocketXenStore(guestSocket(5))) {
            g5.write("device/vif/0/state", "1");
            assertThat(g5.read("/local/domain/5/device/vif/0/state")).isEqualTo("1");
            assertError(XsError.EACCES, () -> g5.read("/local/domain/6/secret"));
            assertError(XsError.EACCES, () -> g5.directory("/local/domain/6"));
            assertError(XsError.EACCES, () -> g5.write("/local/domain/6/x", "1"));
            assertError(XsError.EACCES, () -> g5.rm("/local/domain/6"));
            assertError(XsError.EACCES, () -> g5.introduceDomain(8, 1, 1));
            assertError(XsError.EACCES, () -> g5.releaseDomain(6));
            assertError(XsError.EACCES, () -> g5.isDomainIntroduced(6));
            assertError(XsError.EACCES, () -> g5.setTarget(5, 6));
            assertError(XsError.EPERM, () -> g5.setPerms("device", List.of(XsPerm.none(6))));
            assertThat(g5.getDomainPath(6)).isEqualTo("/local/domain/6");
            // dom0 still has everything
            assertThat(dom0.read("/local/domain/6/secret")).isEqualTo("s");
        }
    }

    @Test
    void guestHitsNodeAndWatchQuotas() throws Exception {
        DaemonFixture.requireTool("/usr/bin/python3", "python3");
        String script = String.join("\n",
                "import errno, sys",
                "from pyxs import Client, PyXSError",
                "with Client(unix_socket_path=sys.argv[1]) as c:",
                "    n = 0",
                "    try:",
                "        while n < 2000:",
                "            c.write(b'q/n%d' % n, b'')",
                "            n += 1",
                "    except PyXSError as e:",
                "        print('nodes', n, errno.errorcode[e.args[0]])",
                "    try:",
                "        c.write(b'big', b'x' * 2100)",
                "    except PyXSError as e:",
                "        print('value', errno.errorcode[e.args[0]])",
                "    m = c.monitor()",
                "    w = 0",
                "    try:",
                "        while w < 500:",
                "            m.watch(b'q', b't%d' % w)",
                "            w += 1",
                "    except PyXSError as e:",
                "        print('watches', w, errno.errorcode[e.args[0]])",
                "");
        Path py = Files.createTempFile("quota", ".py");
        Files.writeString(py, script);
        try {
            DaemonFixture.Result r = xs.run(List.of("/usr/bin/python3", py.toString(), guestSocket(5).toString()), null);
            assertThat(r.err()).isEmpty();
            // The home node and q itself are domain 5's too: 1000 owned in all.
            assertThat(r.out()).isEqualTo("nodes 998 ENOSPC\nvalue ENOSPC\nwatches 129 E2BIG\n");
        } finally {
            Files.deleteIfExists(py);
        }
        // dom0 is exempt from the quotas
        for (int i = 0; i < 200; i++) {
            dom0.write("/local/domain/5/q/dom0-" + i, "");
        }
    }

    private static void assertError(XsError expected, Runnable op) {
        XsException e = assertThrows(XsException.class, op::run);
        assertThat(e.error()).isEqualTo(expected);
    }
}
