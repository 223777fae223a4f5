package io.backplane.xenstore.store;

import io.backplane.api.xenstore.XsError;
import io.backplane.api.xenstore.XsException;
import io.backplane.api.xenstore.XsPerm;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

class StoreTest {
    private Store store;
    private Connection dom0;
    private final List<String> dom0Events = new ArrayList<>();

    @BeforeEach
    void setUp() {
        store = new Store(Quotas.XEN_4_17);
        dom0 = store.connect(0, true, (p, t) -> dom0Events.add(p + " " + t));
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private String read(Connection c, int tx, String path) {
        return new String(store.read(c, tx, path), StandardCharsets.UTF_8);
    }

    private static void assertError(XsError expected, Executable op) {
        XsException e = assertThrows(XsException.class, op);
        assertThat(e.error()).isEqualTo(expected);
    }

    /** A guest domain, introduced, with its home owned by it and readable by dom0 only. */
    private Connection guest(int domid, List<String> events) {
        store.introduce(dom0, domid, 0x1000 + domid, 1);
        store.mkdir(dom0, 0, "/local/domain/" + domid);
        store.setPerms(dom0, 0, "/local/domain/" + domid, List.of(XsPerm.none(domid)));
        return store.connect(domid, false, (p, t) -> events.add(p + " " + t));
    }

    @Test
    void countsEachDomainsRequestsQuotaHitsAndWatchEventsUntilItIsReleased() {
        store.setQuotas(new Quotas(1000, 2048, 1, 10, 5)); // one watch (C compares with '>': two)
        List<String> events = new ArrayList<>();
        Connection g = guest(7, events);
        store.watch(g, "/local/domain/7", "t1", () -> { });
        store.watch(g, "/local/domain/7/a", "t2", () -> { });
        assertError(XsError.E2BIG, () -> store.watch(g, "/local/domain/7/b", "t3", () -> { }));
        store.write(g, 0, "/local/domain/7/x", b("1"));
        store.countRequest(g);
        store.countRequest(g);
        StoreStats.DomainUse use = domain(7);
        assertThat(use.quotaHits()).isEqualTo(1);
        assertThat(use.watchEvents()).isEqualTo(events.size()).isEqualTo(3); // two on watching, one on the write
        assertThat(use.requests()).isEqualTo(2);
        assertThat(domain(0).quotaHits()).isZero();

        store.release(dom0, 7);
        assertThat(store.stats().domains()).filteredOn(d -> d.domid() == 7)
                .allSatisfy(d -> assertThat(d.requests() + d.quotaHits() + d.watchEvents()).isZero());
    }

    /** What hung a fuzz run: "/" handed to a guest, then the guest released, took the root with it. */
    @Test
    void releasingTheDomainThatOwnsTheRootKeepsTheRoot() {
        List<String> events = new ArrayList<>();
        guest(5, events);
        store.setPerms(dom0, 0, "/", List.of(XsPerm.none(5)));
        store.write(dom0, 0, "/data/x", b("1"));
        store.release(dom0, 5);
        // /data inherited the root's owner and went with the domain; the root itself stays,
        // given to dom0 as C xenstored's rm_node fallback does
        assertThat(store.directory(dom0, 0, "/").children()).contains("tool").doesNotContain("data");
        assertThat(store.getPerms(dom0, 0, "/")).containsExactly(XsPerm.none(0));
        assertError(XsError.ENOENT, () -> store.read(dom0, 0, "/nope/deeper"));
    }

    private StoreStats.DomainUse domain(int domid) {
        return store.stats().domains().stream().filter(d -> d.domid() == domid).findFirst().orElseThrow();
    }

    @Test
    void initialTreeIsTheOneXenstoredStartsWith() {
        assertThat(store.directory(dom0, 0, "/").children()).containsExactly("tool");
        assertThat(store.directory(dom0, 0, "/tool").children()).containsExactly("xenstored");
        assertThat(store.getPerms(dom0, 0, "/tool/xenstored")).containsExactly(XsPerm.none(0));
    }

    @Test
    void writeCreatesParentsInheritingPermsAndRmRemovesSubtree() {
        store.write(dom0, 0, "/a/b/c", b("v"));
        assertThat(read(dom0, 0, "/a/b/c")).isEqualTo("v");
        assertThat(read(dom0, 0, "/a/b")).isEmpty();
        assertThat(store.directory(dom0, 0, "/").children()).containsExactly("tool", "a");
        store.rm(dom0, 0, "/a");
        assertError(XsError.ENOENT, () -> store.read(dom0, 0, "/a/b/c"));
        store.rm(dom0, 0, "/a"); // missing node, parent exists: fine
        assertError(XsError.ENOENT, () -> store.rm(dom0, 0, "/x/y"));
        assertError(XsError.EINVAL, () -> store.rm(dom0, 0, "/"));
    }

    @Test
    void pathsAreCheckedLikeXenstored() {
        assertError(XsError.EINVAL, () -> store.write(dom0, 0, "/a//b", b("")));
        assertError(XsError.EINVAL, () -> store.write(dom0, 0, "/a/", b("")));
        assertError(XsError.EINVAL, () -> store.write(dom0, 0, "/a b", b("")));
        assertError(XsError.EINVAL, () -> store.write(dom0, 0, "/" + "x".repeat(3072), b("")));
        store.write(dom0, 0, "rel", b("1"));
        assertThat(read(dom0, 0, "/local/domain/0/rel")).isEqualTo("1");
    }

    @Test
    void generationMovesWhenANodeOrItsChildListChanges() {
        store.write(dom0, 0, "/g", b("1"));
        long g1 = store.directory(dom0, 0, "/g").generation();
        store.write(dom0, 0, "/g/child", b("1"));
        long g2 = store.directory(dom0, 0, "/g").generation();
        store.write(dom0, 0, "/g/child", b("2"));
        assertThat(g2).isGreaterThan(g1);
        assertThat(store.directory(dom0, 0, "/g").generation()).isEqualTo(g2);
    }

    @Test
    void guestOwnsWhatItCreatesAndCannotSeeOtherDomains() {
        Connection g5 = guest(5, new ArrayList<>());
        guest(6, new ArrayList<>());
        store.write(dom0, 0, "/local/domain/6/secret", b("x"));
        store.write(g5, 0, "data/k", b("v"));
        assertThat(store.getPerms(dom0, 0, "/local/domain/5/data/k")).containsExactly(XsPerm.none(5));
        assertError(XsError.EACCES, () -> store.read(g5, 0, "/local/domain/6/secret"));
        assertError(XsError.EACCES, () -> store.read(g5, 0, "/local/domain/6/missing"));
        assertError(XsError.EACCES, () -> store.write(g5, 0, "/local/domain/6/x", b("")));
        assertError(XsError.ENOENT, () -> store.read(g5, 0, "missing"));
        assertError(XsError.EACCES, () -> store.introduce(g5, 9, 1, 1));
        assertError(XsError.EPERM, () -> store.setPerms(g5, 0, "data/k", List.of(XsPerm.none(0))));
        // a read grant lets the guest read but not write a dom0 node
        store.write(dom0, 0, "/shared", b("s"));
        store.setPerms(dom0, 0, "/shared", List.of(XsPerm.none(0), XsPerm.read(5)));
        assertThat(read(g5, 0, "/shared")).isEqualTo("s");
        assertError(XsError.EACCES, () -> store.write(g5, 0, "/shared", b("t")));
        assertError(XsError.EACCES, () -> store.setPerms(g5, 0, "/shared", List.of(XsPerm.none(0))));
    }

    @Test
    void watchesFireForDescendantsWithImmediateEventAndRelativePaths() {
        List<String> ev = new ArrayList<>();
        Connection g5 = guest(5, ev);
        List<String> acks = new ArrayList<>();
        store.watch(g5, "device", "tok", () -> acks.add("ack"));
        assertThat(acks).containsExactly("ack");
        assertThat(ev).containsExactly("device tok");
        store.write(dom0, 0, "/local/domain/5/device/vif/0/state", b("1"));
        assertThat(ev).containsExactly("device tok", "device/vif/0/state tok");
        assertError(XsError.EEXIST, () -> store.watch(g5, "device", "tok", () -> { }));
        store.watch(g5, "device", "other", () -> { });
        store.unwatch(g5, "device", "tok");
        assertError(XsError.ENOENT, () -> store.unwatch(g5, "device", "tok"));
    }

    @Test
    void rmFiresRootWatchersOnceAndExactWatchersOfDescendants() {
        store.write(dom0, 0, "/r/a/b", b(""));
        store.watch(dom0, "/r", "root", () -> { });
        store.watch(dom0, "/r/a/b", "leaf", () -> { });
        dom0Events.clear();
        store.rm(dom0, 0, "/r/a");
        assertThat(dom0Events).containsExactly("/r/a/b leaf", "/r/a root");
    }

    @Test
    void guestsDoNotSeeEventsForNodesTheyCannotRead() {
        List<String> ev = new ArrayList<>();
        Connection g5 = guest(5, ev);
        store.watch(g5, "/", "all", () -> { });
        ev.clear();
        store.write(dom0, 0, "/private/x", b("1"));
        assertThat(ev).isEmpty();
        store.write(dom0, 0, "/local/domain/5/mine", b("1"));
        assertThat(ev).containsExactly("/local/domain/5/mine all");
    }

    @Test
    void transactionsIsolateFireOnCommitAndConflictWithEagain() {
        store.write(dom0, 0, "/t/x", b("0"));
        store.watch(dom0, "/t", "w", () -> { });
        dom0Events.clear();
        int tx = store.transactionStart(dom0, 0);
        assertThat(read(dom0, tx, "/t/x")).isEqualTo("0");
        store.write(dom0, tx, "/t/x", b("1"));
        assertThat(read(dom0, 0, "/t/x")).isEqualTo("0");
        assertThat(read(dom0, tx, "/t/x")).isEqualTo("1");
        assertThat(dom0Events).isEmpty();
        store.transactionEnd(dom0, tx, true);
        assertThat(read(dom0, 0, "/t/x")).isEqualTo("1");
        assertThat(dom0Events).containsExactly("/t/x w");

        int t2 = store.transactionStart(dom0, 0);
        read(dom0, t2, "/t/x");
        store.write(dom0, t2, "/t/y", b("y"));
        store.write(dom0, 0, "/t/x", b("other")); // a change outside, after the tx read it
        assertError(XsError.EAGAIN, () -> store.transactionEnd(dom0, t2, true));
        assertError(XsError.ENOENT, () -> store.read(dom0, 0, "/t/y"));
        assertError(XsError.ENOENT, () -> store.read(dom0, t2, "/t/x")); // tx gone
        assertError(XsError.ENOENT, () -> store.transactionStart(dom0, 5));

        int t3 = store.transactionStart(dom0, 0);
        assertError(XsError.EBUSY, () -> store.transactionStart(dom0, t3));
        store.rm(dom0, t3, "/t");
        store.transactionEnd(dom0, t3, false);
        assertThat(read(dom0, 0, "/t/x")).isEqualTo("other");
    }

    /** Xen's test-xenstore "ta err": a read inside a transaction is repeatable. */
    @Test
    void transactionReadsAreRepeatableAfterAnOutsideWrite() {
        store.write(dom0, 0, "/t/a", b("a"));
        int tx = store.transactionStart(dom0, 0);
        assertThat(read(dom0, tx, "/t/a")).isEqualTo("a");
        store.write(dom0, 0, "/t/a", b("b"));
        assertThat(read(dom0, tx, "/t/a")).isEqualTo("a");
        store.write(dom0, tx, "/t/a", b("c"));
        assertThat(read(dom0, tx, "/t/a")).isEqualTo("c");
        assertError(XsError.EAGAIN, () -> store.transactionEnd(dom0, tx, true));
        assertThat(read(dom0, 0, "/t/a")).isEqualTo("b");
    }

    @Test
    void transactionSeesListingsPermsAndAbsenceAsFirstSeen() {
        store.write(dom0, 0, "/t/a", b("1"));
        int tx = store.transactionStart(dom0, 0);
        Store.Listing before = store.directory(dom0, tx, "/t");
        assertThat(store.getPerms(dom0, tx, "/t/a")).containsExactly(XsPerm.none(0));
        assertError(XsError.ENOENT, () -> store.read(dom0, tx, "/t/new"));

        store.write(dom0, 0, "/t/new", b("n"));
        store.write(dom0, 0, "/t/b", b("2"));
        store.rm(dom0, 0, "/t/a");
        store.setPerms(dom0, 0, "/t", List.of(XsPerm.none(0), XsPerm.read(3)));

        assertThat(store.directory(dom0, tx, "/t")).isEqualTo(before);
        assertThat(store.directory(dom0, tx, "/t").children()).containsExactly("a");
        assertThat(read(dom0, tx, "/t/a")).isEqualTo("1");
        assertThat(store.getPerms(dom0, tx, "/t/a")).containsExactly(XsPerm.none(0));
        assertThat(store.getPerms(dom0, tx, "/t")).containsExactly(XsPerm.none(0));
        assertError(XsError.ENOENT, () -> store.read(dom0, tx, "/t/new"));
        assertError(XsError.EAGAIN, () -> store.transactionEnd(dom0, tx, true));
    }

    @Test
    void transactionThatSawNothingMoveStillCommits() {
        store.write(dom0, 0, "/t/a", b("1"));
        int tx = store.transactionStart(dom0, 0);
        assertThat(read(dom0, tx, "/t/a")).isEqualTo("1");
        store.write(dom0, 0, "/elsewhere", b("x")); // not touched by the transaction
        store.write(dom0, tx, "/t/a", b("2"));
        store.transactionEnd(dom0, tx, true);
        assertThat(read(dom0, 0, "/t/a")).isEqualTo("2");
    }

    /** dom0 is exempt from quotas, not from xs_wire's payload size: no writer gets past it. */
    @Test
    void requestsLargerThanOneXsWirePayloadAreE2bigForDom0Too() {
        assertError(XsError.E2BIG, () -> store.write(dom0, 0, "/v", new byte[5000]));
        assertError(XsError.E2BIG, () -> store.write(dom0, 0, "/v", new byte[4096 - 2]));
        store.write(dom0, 0, "/v", new byte[4096 - 3]);
        assertThat(store.read(dom0, 0, "/v")).hasSize(4093);
        int tx = store.transactionStart(dom0, 0);
        assertError(XsError.E2BIG, () -> store.write(dom0, tx, "/v", new byte[5000]));
        store.transactionEnd(dom0, tx, false);

        List<XsPerm> many = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            many.add(XsPerm.read(i));
        }
        assertError(XsError.E2BIG, () -> store.setPerms(dom0, 0, "/v", many));
        assertError(XsError.E2BIG, () -> store.watch(dom0, "/v", "t".repeat(4100), () -> { }));
        assertError(XsError.E2BIG, () -> store.read(dom0, 0, "/" + "p".repeat(4096)));
        // a 3-byte UTF-8 value counts as 3 bytes, as on the wire
        assertError(XsError.E2BIG, () -> store.write(dom0, 0, "/v", "\u20ac".repeat(1400).getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void releaseRemovesOwnedNodesRevokesPermsAndFiresReleaseDomain() {
        Connection g7 = guest(7, new ArrayList<>());
        store.write(g7, 0, "data", b("1"));
        store.write(dom0, 0, "/vm/shared", b(""));
        store.setPerms(dom0, 0, "/vm/shared", List.of(XsPerm.none(0), XsPerm.read(7)));
        store.watch(dom0, "@releaseDomain", "rel", () -> { });
        store.watch(g7, "data", "w", () -> { });
        dom0Events.clear();
        store.release(dom0, 7);
        assertThat(store.isIntroduced(dom0, 7)).isFalse();
        assertError(XsError.ENOENT, () -> store.read(dom0, 0, "/local/domain/7"));
        assertThat(store.getPerms(dom0, 0, "/vm/shared")).containsExactly(XsPerm.none(0));
        assertThat(dom0Events).contains("@releaseDomain rel");
        assertThat(store.stats().watches()).isEqualTo(1);
        assertError(XsError.ENOENT, () -> store.release(dom0, 7));
    }

    @Test
    void introduceFiresOnceAndTargetGrantsTheGuestsRights() {
        store.watch(dom0, "@introduceDomain", "intro", () -> { });
        dom0Events.clear();
        store.introduce(dom0, 3, 10, 2);
        store.introduce(dom0, 3, 11, 2);
        assertThat(dom0Events).containsExactly("@introduceDomain intro");
        assertThat(store.isIntroduced(dom0, 3)).isTrue();
        assertThat(store.isIntroduced(dom0, 0)).isTrue();
        assertThat(store.domainPath(3)).isEqualTo("/local/domain/3");

        Connection g4 = guest(4, new ArrayList<>());
        store.write(dom0, 0, "/local/domain/3/x", b(""));
        store.setPerms(dom0, 0, "/local/domain/3/x", List.of(XsPerm.none(3)));
        assertError(XsError.EACCES, () -> store.read(g4, 0, "/local/domain/3/x"));
        store.setTarget(dom0, 4, 3);
        assertThat(read(g4, 0, "/local/domain/3/x")).isEmpty();
        assertError(XsError.ENOENT, () -> store.setTarget(dom0, 4, 99));
    }

    @Test
    void guestQuotas() {
        Connection g5 = guest(5, new ArrayList<>());
        // the home node is owned by domain 5 already
        for (int i = 1; i < 1000; i++) {
            store.write(g5, 0, "n" + i, b(""));
        }
        assertError(XsError.ENOSPC, () -> store.write(g5, 0, "one-too-many", b("")));
        store.rm(g5, 0, "n1");
        store.write(g5, 0, "again", b(""));

        assertError(XsError.ENOSPC, () -> store.write(g5, 0, "again", new byte[2048]));
        assertError(XsError.ENOSPC, () -> store.setPerms(g5, 0, "again",
                List.of(XsPerm.none(5), XsPerm.read(1), XsPerm.read(2), XsPerm.read(3), XsPerm.read(4), XsPerm.read(6))));
        // dom0 is exempt
        store.write(dom0, 0, "/big", new byte[4000]);

        int watches = 0;
        try {
            while (watches < 1000) {
                store.watch(g5, "w" + watches, "t", () -> { });
                watches++;
            }
        } catch (XsException e) {
            assertThat(e.error()).isEqualTo(XsError.E2BIG);
        }
        assertThat(watches).isEqualTo(129); // C compares with '>': quota + 1

        int txs = 0;
        try {
            while (txs < 100) {
                store.transactionStart(g5, 0);
                txs++;
            }
        } catch (XsException e) {
            assertThat(e.error()).isEqualTo(XsError.ENOSPC);
        }
        assertThat(txs).isEqualTo(11);
        store.resetWatches(g5);
        assertThat(store.stats().transactions()).isZero();
    }

    @Test
    void quotasChangeLiveKeepingTheTreeAndWhatIsAlreadyHeld() {
        Connection g5 = guest(5, new ArrayList<>());
        for (int i = 1; i <= 9; i++) {
            store.write(g5, 0, "n" + i, b("v" + i)); // 10 nodes with the home
        }
        store.setQuotas(new Quotas(5, 2048, 128, 10, 5));
        assertThat(store.quotas().maxNodesPerDomain()).isEqualTo(5);
        assertThat(read(g5, 0, "n9")).isEqualTo("v9");
        assertError(XsError.ENOSPC, () -> store.write(g5, 0, "n10", b("")));
        store.write(g5, 0, "n1", b("rewritten")); // no new node: allowed over the lowered quota, as in C

        store.setQuotas(new Quotas(20, 200, 128, 10, 5));
        store.write(g5, 0, "n10", b(""));
        assertError(XsError.ENOSPC, () -> store.write(g5, 0, "n11", new byte[300])); // the smaller entry size holds now
        assertThat(store.stats().quotas().maxEntrySize()).isEqualTo(200);
    }
}
