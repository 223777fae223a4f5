package io.backplane.xenstore.store;

import io.backplane.api.xenstore.XsError;
import io.backplane.api.xenstore.XsException;
import io.backplane.api.xenstore.XsPerm;

import io.backplane.xs.wire.XsWire;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The XenStore database with C xenstored's semantics (Xen 4.17): node tree, permissions,
 * transactions, watches, domains and quotas. Every operation names the {@link Connection} it
 * acts for and, for node operations, its transaction id (0 = none). Failures are
 * {@link XsException}s carrying the xs_wire error. One lock: operations are short and in memory.
 */
public final class Store {
    static final int PERM_READ = 1;
    static final int PERM_WRITE = 2;
    static final int PERM_OWNER = 4;
    private static final byte[] EMPTY = new byte[0];

    /** A node change to report to watches; {@code exact} only fires watches on that very path. */
    record Change(String path, Node node, boolean exact) {
    }

    /** A node's children and the generation that lets DIRECTORY_PART readers detect changes. */
    public record Listing(long generation, List<String> children) {
    }

    /** Replaced whole by {@link #setQuotas}; each check reads it once. */
    private volatile Quotas quotas;
    /** Per domain: requests, quota hits, watch events (counted without the store's lock). */
    private final Map<Integer, java.util.concurrent.atomic.LongAdder[]> activity = new java.util.concurrent.ConcurrentHashMap<>();
    private static final int REQUESTS = 0;
    private static final int QUOTA_HITS = 1;
    private static final int WATCH_EVENTS = 2;
    private final Tree tree = new Tree();
    private final Map<String, List<XsPerm>> specialPerms = new HashMap<>();
    private final Map<Integer, Domain> domains = new TreeMap<>();
    private final List<Connection> connections = new ArrayList<>();
    private final List<DomainListener> domainListeners = new CopyOnWriteArrayList<>();
    private long nextConnectionId = 1;
    private long generation;

    /** The committed tree. */
    private final class Tree extends NodeView {
        final Map<String, Node> nodes = new HashMap<>();
        final Map<Integer, Integer> owned = new HashMap<>();

        @Override
        Node lookup(String path) {
            return nodes.get(path);
        }

        @Override
        void store(String path, Node node) {
            if (node == null) {
                nodes.remove(path);
            } else {
                nodes.put(path, node);
            }
        }

        @Override
        void adjustOwned(int domid, int delta) {
            owned.merge(domid, delta, Integer::sum);
        }

        @Override
        int owned(int domid) {
            return owned.getOrDefault(domid, 0);
        }

        @Override
        long nextGeneration() {
            return ++generation;
        }
    }

    public Store(Quotas quotas) {
        this.quotas = quotas;
        // The tree C xenstored starts with: "/", "/tool", "/tool/xenstored", all owned by dom0.
        List<XsPerm> dom0 = List.of(XsPerm.none(0));
        tree.put("/", new Node(EMPTY, dom0, List.of("tool"), 0));
        tree.put("/tool", new Node(EMPTY, dom0, List.of("xenstored"), 0));
        tree.put("/tool/xenstored", new Node(EMPTY, dom0, List.of(), 0));
        specialPerms.put(Paths.INTRODUCE_DOMAIN, dom0);
        specialPerms.put(Paths.RELEASE_DOMAIN, dom0);
    }

    public Quotas quotas() {
        return quotas;
    }

    /**
     * New limits for what guests do from now on, as {@code xenstore-control quota-set} changes
     * them in a running C xenstored: nodes, watches and transactions already held above a lowered
     * limit stay; only new ones are refused.
     */
    public void setQuotas(Quotas quotas) {
        this.quotas = java.util.Objects.requireNonNull(quotas);
    }

    public void addDomainListener(DomainListener l) {
        domainListeners.add(l);
    }

    public void removeDomainListener(DomainListener l) {
        domainListeners.remove(l);
    }

    // ---- connections ----

    public synchronized Connection connect(int domid, boolean privileged, WatchEventSink sink) {
        Connection c = new Connection(nextConnectionId++, domid, privileged, sink);
        connections.add(c);
        return c;
    }

    /** Drops the connection's watches and open transactions. */
    public synchronized void disconnect(Connection c) {
        c.watches.clear();
        c.transactions.clear();
        connections.remove(c);
    }

    // ---- node operations ----

    public synchronized byte[] read(Connection c, int tx, String path) {
        return getNode(c, view(c, tx), canonical(c, path), PERM_READ).value;
    }

    public synchronized void write(Connection c, int tx, String path, byte[] value) {
        Limits.checkRequest(value.length, path);
        NodeView v = view(c, tx);
        String abs = canonical(c, path);
        Node n = getNodeOrNull(c, v, abs, PERM_WRITE);
        if (n == null) {
            create(c, v, abs, value);
        } else {
            Node changed = n.withValue(value);
            checkEntrySize(c, changed);
            v.put(abs, changed);
        }
        emit(v, new Change(abs, v.lookup(abs), false));
    }

    public synchronized void mkdir(Connection c, int tx, String path) {
        NodeView v = view(c, tx);
        String abs = canonical(c, path);
        if (getNodeOrNull(c, v, abs, PERM_WRITE) == null) {
            create(c, v, abs, EMPTY);
            emit(v, new Change(abs, v.lookup(abs), false));
        }
    }

    public synchronized void rm(Connection c, int tx, String path) {
        NodeView v = view(c, tx);
        String abs = canonical(c, path);
        Node n;
        try {
            n = getNode(c, v, abs, PERM_WRITE);
        } catch (XsException e) {
            // Removing what is already gone is fine as long as its parent exists.
            if (e.error() == XsError.ENOENT && v.lookup(Paths.parent(abs)) != null) {
                return;
            }
            throw e;
        }
        if (abs.equals("/")) {
            throw new XsException(XsError.EINVAL, "cannot remove /");
        }
        deleteTree(v, abs, n, abs);
        String parentPath = Paths.parent(abs);
        Node parent = v.lookup(parentPath);
        v.put(parentPath, parent.withoutChild(Paths.basename(abs)));
    }

    public synchronized Listing directory(Connection c, int tx, String path) {
        Node n = getNode(c, view(c, tx), canonical(c, path), PERM_READ);
        return new Listing(n.generation, n.children);
    }

    public synchronized List<XsPerm> getPerms(Connection c, int tx, String path) {
        if (Paths.isSpecial(path)) {
            return specialPerms.get(path);
        }
        return getNode(c, view(c, tx), canonical(c, path), PERM_READ).perms;
    }

    public synchronized void setPerms(Connection c, int tx, String path, List<XsPerm> perms) {
        if (perms.isEmpty()) {
            throw new XsException(XsError.EINVAL, "no permissions");
        }
        String[] request = new String[perms.size() + 1];
        request[0] = path;
        for (int i = 0; i < perms.size(); i++) {
            request[i + 1] = perms.get(i).toString();
        }
        Limits.checkRequest(0, request);
        if (!c.privileged && perms.size() > quotas.maxPermsPerNode()) {
            throw quotaHit(c, new XsException(XsError.ENOSPC, "more than " + quotas.maxPermsPerNode() + " permissions"));
        }
        if (Paths.isSpecial(path)) {
            if ((access(c, specialPerms.get(path)) & (PERM_WRITE | PERM_OWNER)) != (PERM_WRITE | PERM_OWNER)) {
                throw new XsException(XsError.EACCES, path);
            }
            specialPerms.put(path, List.copyOf(perms));
            return;
        }
        NodeView v = view(c, tx);
        String abs = canonical(c, path);
        Node n = getNode(c, v, abs, PERM_WRITE | PERM_OWNER);
        if (!c.privileged && perms.get(0).domid() != n.owner()) {
            throw new XsException(XsError.EPERM, "only dom0 may change the owner of " + abs);
        }
        Node changed = n.withPerms(perms);
        checkEntrySize(c, changed);
        v.put(abs, changed);
        emit(v, new Change(abs, v.lookup(abs), false));
    }

    // ---- transactions ----

    public synchronized int transactionStart(Connection c, int tx) {
        if (tx != 0) {
            view(c, tx); // C looks the id up first: an unknown one is ENOENT, a live one EBUSY
            throw new XsException(XsError.EBUSY, "already in transaction " + tx);
        }
        // C xenstored compares with '>', so a domain may open one more than the quota.
        if (!c.privileged && c.transactions.size() > quotas.maxTransactions()) {
            throw quotaHit(c, new XsException(XsError.ENOSPC, "too many transactions"));
        }
        int id;
        do {
            id = c.nextTransactionId++;
            if (c.nextTransactionId == 0) {
                c.nextTransactionId = 1;
            }
        } while (id == 0 || c.transactions.containsKey(id));
        c.transactions.put(id, new Transaction(id, tree));
        return id;
    }

    public synchronized void transactionEnd(Connection c, int tx, boolean commit) {
        Transaction t = c.transactions.remove(tx);
        if (t == null) {
            throw new XsException(XsError.ENOENT, "no transaction " + tx);
        }
        if (!commit) {
            return;
        }
        if (t.conflictsWith(tree)) {
            throw new XsException(XsError.EAGAIN, "transaction " + tx + " conflicts with a change");
        }
        t.applyTo(tree);
        for (Change ch : t.changes) {
            fire(ch);
        }
    }

    // ---- watches ----

    /**
     * WATCH. {@code ack} runs after registration and before the initial event, so a daemon can
     * send the OK reply first, as C xenstored does.
     */
    public synchronized void watch(Connection c, String path, String token, Runnable ack) {
        Limits.checkRequest(0, path, token);
        String canonical;
        String relativeTo = null;
        if (path.startsWith("@")) {
            if (path.length() > XsWire.REL_PATH_MAX) {
                throw new XsException(XsError.EINVAL, "watch path too long");
            }
            canonical = path;
        } else {
            canonical = canonical(c, path);
            if (!path.startsWith("/")) {
                relativeTo = c.home();
            }
        }
        for (Watch w : c.watches) {
            if (w.path().equals(canonical) && w.token().equals(token)) {
                throw new XsException(XsError.EEXIST, "already watching " + path + " with token " + token);
            }
        }
        // C xenstored compares with '>': a domain may hold one watch more than the quota.
        if (!c.privileged && domainWatches(c.domid) > quotas.maxWatchesPerDomain()) {
            throw quotaHit(c, new XsException(XsError.E2BIG, "too many watches"));
        }
        Watch w = new Watch(canonical, token, relativeTo);
        c.watches.add(w);
        ack.run();
        c.sink.watchEvent(path, token);
        count(c.domid, WATCH_EVENTS);
    }

    public synchronized void unwatch(Connection c, String path, String token) {
        Limits.checkRequest(0, path, token);
        String canonical = path.startsWith("@") ? path : canonical(c, path);
        for (Iterator<Watch> it = c.watches.iterator(); it.hasNext(); ) {
            Watch w = it.next();
            if (w.path().equals(canonical) && w.token().equals(token)) {
                it.remove();
                return;
            }
        }
        throw new XsException(XsError.ENOENT, "no watch on " + path + " with token " + token);
    }

    /** RESET_WATCHES: drops the connection's watches and transactions. */
    public synchronized void resetWatches(Connection c) {
        c.watches.clear();
        c.transactions.clear();
    }

    // ---- domains ----

    public void introduce(Connection c, int domid, long storeGfn, int storeEventChannel) {
        boolean fresh;
        synchronized (this) {
            requirePrivileged(c);
            checkDomid(domid);
            Domain d = domains.get(domid);
            fresh = d == null;
            if (fresh) {
                domains.put(domid, new Domain(domid, storeGfn, storeEventChannel));
                fireSpecial(Paths.INTRODUCE_DOMAIN);
            } else {
                // A second INTRODUCE re-binds the store ring, as after a guest's kexec.
                d.storeGfn = storeGfn;
                d.storeEventChannel = storeEventChannel;
            }
        }
        if (fresh) {
            domainListeners.forEach(l -> l.domainIntroduced(domid));
        }
    }

    /**
     * RELEASE: forgets the domain. Like Xen 4.17 (XSA-419) this also removes the nodes the domain
     * owns, revokes its permission entries elsewhere, drops its connections' watches and
     * transactions, then fires {@code @releaseDomain}.
     */
    public void release(Connection c, int domid) {
        synchronized (this) {
            requirePrivileged(c);
            if (domid == 0) {
                throw new XsException(XsError.EINVAL, "cannot release domain 0");
            }
            if (domains.remove(domid) == null) {
                throw new XsException(XsError.ENOENT, "domain " + domid + " is not introduced");
            }
            for (Connection dc : connections) {
                if (dc.domid == domid && !dc.privileged) {
                    dc.watches.clear();
                    dc.transactions.clear();
                }
            }
            removeOwnedNodes(domid);
            revokePerms(domid);
            activity.remove(domid); // a domid used again starts from zero
            for (Domain d : domains.values()) {
                if (d.target == domid) {
                    d.target = -1;
                }
            }
            fireSpecial(Paths.RELEASE_DOMAIN);
        }
        domainListeners.forEach(l -> l.domainReleased(domid));
    }

    public synchronized boolean isIntroduced(Connection c, int domid) {
        requirePrivileged(c);
        return domid == 0 || domains.containsKey(domid);
    }

    public String domainPath(int domid) {
        checkDomid(domid);
        return Paths.domainPath(domid);
    }

    public synchronized void setTarget(Connection c, int domid, int targetDomid) {
        requirePrivileged(c);
        Domain d = domains.get(domid);
        if (d == null || !domains.containsKey(targetDomid)) {
            throw new XsException(XsError.ENOENT, "domain " + (d == null ? domid : targetDomid) + " is not introduced");
        }
        d.target = targetDomid;
    }

    /** RESUME: the domain came back from suspend; nothing is kept per suspend here. */
    public synchronized void resume(Connection c, int domid) {
        requirePrivileged(c);
        if (!domains.containsKey(domid)) {
            throw new XsException(XsError.ENOENT, "domain " + domid + " is not introduced");
        }
    }

    public synchronized List<Integer> introducedDomains() {
        return List.copyOf(domains.keySet());
    }

    public synchronized StoreStats stats() {
        int watches = 0;
        int txs = 0;
        Map<Integer, int[]> perDomain = new TreeMap<>();
        for (Map.Entry<Integer, Integer> e : tree.owned.entrySet()) {
            if (e.getValue() > 0) {
                perDomain.computeIfAbsent(e.getKey(), k -> new int[3])[0] = e.getValue();
            }
        }
        for (Integer d : domains.keySet()) {
            perDomain.computeIfAbsent(d, k -> new int[3]);
        }
        for (Connection c : connections) {
            watches += c.watches.size();
            txs += c.transactions.size();
            int[] use = perDomain.computeIfAbsent(c.domid, k -> new int[3]);
            use[1] += c.watches.size();
            use[2] += c.transactions.size();
        }
        List<StoreStats.DomainUse> uses = new ArrayList<>();
        for (Integer d : activity.keySet()) {
            perDomain.computeIfAbsent(d, k -> new int[3]);
        }
        perDomain.forEach((d, u) -> uses.add(new StoreStats.DomainUse(d, d == 0 || domains.containsKey(d), u[0], u[1], u[2],
                counted(d, REQUESTS), counted(d, QUOTA_HITS), counted(d, WATCH_EVENTS))));
        return new StoreStats(tree.nodes.size(), connections.size(), watches, txs, quotas, uses);
    }

    /** One request a connection of {@code c}'s domain sent on the daemon's sockets (the wire layer counts them). */
    public void countRequest(Connection c) {
        count(c.domid, REQUESTS);
    }

    private XsException quotaHit(Connection c, XsException refusal) {
        count(c.domid, QUOTA_HITS);
        return refusal;
    }

    private void count(int domid, int what) {
        activity.computeIfAbsent(domid, d -> new java.util.concurrent.atomic.LongAdder[] {
                new java.util.concurrent.atomic.LongAdder(), new java.util.concurrent.atomic.LongAdder(),
                new java.util.concurrent.atomic.LongAdder()})[what].increment();
    }

    /** The activity counters by domain ({requests, quota hits, watch events}), for the image. */
    Map<Integer, long[]> activity() {
        Map<Integer, long[]> out = new java.util.TreeMap<>();
        activity.forEach((d, a) -> out.put(d, new long[] {a[REQUESTS].sum(), a[QUOTA_HITS].sum(), a[WATCH_EVENTS].sum()}));
        return out;
    }

    /** A domain's counters as a predecessor's image had them. */
    void activity(int domid, long[] counts) {
        java.util.concurrent.atomic.LongAdder[] a = new java.util.concurrent.atomic.LongAdder[counts.length];
        for (int i = 0; i < a.length; i++) {
            a[i] = new java.util.concurrent.atomic.LongAdder();
            a[i].add(counts[i]);
        }
        activity.put(domid, a);
    }

    private long counted(int domid, int what) {
        java.util.concurrent.atomic.LongAdder[] a = activity.get(domid);
        return a == null ? 0 : a[what].sum();
    }

    // ---- live update: the store as bytes for an updated successor ----

    /**
     * The committed store as bytes (nodes with permissions and generations, introduced domains,
     * special-node permissions, counters), as xenstored's live update writes its state stream.
     * Connections are imaged one by one with {@link #connectionImage}.
     */
    public synchronized byte[] image() {
        return StoreImage.write(this);
    }

    /** A store as {@link #image} left it, with {@code quotas} (the successor's configuration). */
    public static Store fromImage(byte[] image, Quotas quotas) {
        Store s = new Store(quotas);
        synchronized (s) {
            StoreImage.read(image, s);
        }
        return s;
    }

    /** One connection's domain, privilege, watches and open transaction ids, for {@link #restoreConnection}. */
    public synchronized byte[] connectionImage(Connection c) {
        return StoreImage.writeConnection(c);
    }

    /**
     * The connection {@link #connectionImage} described, now delivering events to {@code sink}.
     * Its open transactions come back empty and doomed: their commit answers EAGAIN and the
     * client runs them again, as after a conflict.
     */
    public synchronized Connection restoreConnection(byte[] image, WatchEventSink sink) {
        Connection c = StoreImage.readConnection(image, nextConnectionId++, sink, tree);
        connections.add(c);
        return c;
    }

    Map<String, Node> nodes() {
        return tree.nodes;
    }

    Map<Integer, Integer> owned() {
        return tree.owned;
    }

    Map<String, List<XsPerm>> specialPerms() {
        return specialPerms;
    }

    Map<Integer, Domain> domainRecords() {
        return domains;
    }

    long generation() {
        return generation;
    }

    void generation(long g) {
        generation = g;
    }

    // ---- internals ----

    private NodeView view(Connection c, int tx) {
        if (tx == 0) {
            return tree;
        }
        Transaction t = c.transactions.get(tx);
        if (t == null) {
            throw new XsException(XsError.ENOENT, "no transaction " + tx);
        }
        return t;
    }

    private static String canonical(Connection c, String path) {
        if (path != null) {
            Limits.checkRequest(0, path);
        }
        return Paths.canonical(c.domid, path);
    }

    private static void requirePrivileged(Connection c) {
        if (!c.privileged) {
            throw new XsException(XsError.EACCES, "privileged operation");
        }
    }

    private static void checkDomid(int domid) {
        // DOMID_FIRST_RESERVED (0x7FF0) and above are not real domains.
        if (domid < 0 || domid >= 0x7FF0) {
            throw new XsException(XsError.EINVAL, "bad domain id " + domid);
        }
    }

    /** C's {@code perm_for_conn}: owners, their device models and dom0 get everything. */
    private int access(Connection c, List<XsPerm> perms) {
        if (c.privileged) {
            return PERM_READ | PERM_WRITE | PERM_OWNER;
        }
        Domain d = domains.get(c.domid);
        int target = d == null ? -1 : d.target;
        int owner = perms.get(0).domid();
        if (owner == c.domid || owner == target) {
            return PERM_READ | PERM_WRITE | PERM_OWNER;
        }
        for (int i = 1; i < perms.size(); i++) {
            XsPerm p = perms.get(i);
            if (p.domid() == c.domid || p.domid() == target) {
                return bits(p.access());
            }
        }
        return bits(perms.get(0).access());
    }

    private static int bits(XsPerm.Access a) {
        return (a.canRead() ? PERM_READ : 0) | (a.canWrite() ? PERM_WRITE : 0);
    }

    /**
     * The node, or EACCES without the rights. For a missing node C's {@code errno_from_parents}
     * answers ENOENT only when the nearest existing ancestor grants the same right, so a guest
     * learns nothing about trees it cannot see.
     */
    private Node getNode(Connection c, NodeView v, String abs, int perm) {
        Node n = getNodeOrNull(c, v, abs, perm);
        if (n == null) {
            throw new XsException(XsError.ENOENT, abs);
        }
        return n;
    }

    /** Like {@link #getNode} but null instead of ENOENT. */
    private Node getNodeOrNull(Connection c, NodeView v, String abs, int perm) {
        Node n = v.lookup(abs);
        if (n != null) {
            if ((access(c, n.perms) & perm) != perm) {
                throw new XsException(XsError.EACCES, abs);
            }
            return n;
        }
        String p = abs;
        Node ancestor;
        do {
            p = Paths.parent(p);
            ancestor = v.lookup(p);
        } while (ancestor == null && !p.equals("/")); // the root always exists; never spin if not
        if (ancestor == null) {
            throw new XsException(XsError.EIO, "the store has no root node");
        }
        if ((access(c, ancestor.perms) & perm) == 0) {
            throw new XsException(XsError.EACCES, abs);
        }
        return null;
    }

    /**
     * Creates {@code abs} and its missing parents. Each new node inherits its parent's
     * permissions; an unprivileged creator becomes the owner. All checks run before any change.
     */
    private void create(Connection c, NodeView v, String abs, byte[] value) {
        List<String> missing = new ArrayList<>();
        String p = abs;
        while (v.lookup(p) == null) {
            missing.add(p);
            p = Paths.parent(p);
        }
        if (!c.privileged && v.owned(c.domid) + missing.size() > quotas.maxNodesPerDomain()) {
            throw quotaHit(c, new XsException(XsError.ENOSPC, "domain " + c.domid + " owns too many nodes"));
        }
        String existingPath = p;
        Node existing = v.lookup(p);
        // Like C's construct_node, the parent gaining a child is written without the size check.
        Node top = existing.withChild(Paths.basename(missing.get(missing.size() - 1)));
        List<XsPerm> perms = existing.perms;
        if (!c.privileged) {
            List<XsPerm> owned = new ArrayList<>(perms);
            owned.set(0, new XsPerm(perms.get(0).access(), c.domid));
            perms = owned;
        }
        List<Node> created = new ArrayList<>();
        for (int i = missing.size() - 1; i >= 0; i--) {
            List<String> children = i == 0 ? List.of() : List.of(Paths.basename(missing.get(i - 1)));
            Node n = new Node(i == 0 ? value : EMPTY, perms, children, 0);
            checkEntrySize(c, n);
            created.add(n);
        }
        v.put(existingPath, top);
        for (int i = 0; i < created.size(); i++) {
            v.put(missing.get(missing.size() - 1 - i), created.get(i));
        }
    }

    private void checkEntrySize(Connection c, Node n) {
        // C xenstored (write_node_raw) refuses records of this size or more from guests.
        if (!c.privileged && n.recordSize() >= quotas.maxEntrySize()) {
            throw quotaHit(c, new XsException(XsError.ENOSPC, "node too large"));
        }
    }

    /**
     * Deletes a subtree leaf first. As C's {@code delnode_sub} does, the removed root fires
     * watches on itself and its ancestors, every removed descendant fires only watches set
     * exactly on it.
     */
    private void deleteTree(NodeView v, String path, Node node, String root) {
        for (String child : node.children) {
            String cp = Paths.child(path, child);
            Node cn = v.lookup(cp);
            if (cn != null) {
                deleteTree(v, cp, cn, root);
            }
        }
        v.delete(path);
        emit(v, new Change(path, node, !path.equals(root)));
    }

    private void removeOwnedNodes(int domid) {
        List<String> owned = new ArrayList<>();
        for (Map.Entry<String, Node> e : tree.nodes.entrySet()) {
            if (e.getValue().owner() == domid) {
                owned.add(e.getKey());
            }
        }
        owned.sort(null); // parents sort before their children
        for (String path : owned) {
            Node n = tree.lookup(path);
            if (n == null) {
                continue; // gone with an owned ancestor
            }
            if (path.equals("/")) {
                // The root cannot go: C xenstored's rm_node refuses it and gives it to dom0.
                List<XsPerm> perms = new ArrayList<>(n.perms);
                perms.set(0, new XsPerm(perms.get(0).access(), 0));
                tree.put(path, n.withPerms(perms));
                continue;
            }
            deleteTree(tree, path, n, path);
            String parentPath = Paths.parent(path);
            Node parent = tree.lookup(parentPath);
            tree.put(parentPath, parent.withoutChild(Paths.basename(path)));
        }
    }

    /**
     * Drops the released domain's entries from other nodes' permission lists, so a later
     * domain reusing the id inherits nothing (XSA-322). Generations stay: C hides such entries
     * without rewriting the nodes.
     */
    private void revokePerms(int domid) {
        for (Map.Entry<String, Node> e : tree.nodes.entrySet()) {
            List<XsPerm> perms = e.getValue().perms;
            List<XsPerm> kept = withoutDomain(perms, domid);
            if (kept.size() != perms.size()) {
                e.setValue(e.getValue().withPerms(kept));
            }
        }
        specialPerms.replaceAll((name, perms) -> withoutDomain(perms, domid));
    }

    private static List<XsPerm> withoutDomain(List<XsPerm> perms, int domid) {
        List<XsPerm> kept = new ArrayList<>(perms.size());
        kept.add(perms.get(0));
        for (int i = 1; i < perms.size(); i++) {
            if (perms.get(i).domid() != domid) {
                kept.add(perms.get(i));
            }
        }
        return kept;
    }

    private int domainWatches(int domid) {
        int n = 0;
        for (Connection c : connections) {
            if (c.domid == domid) {
                n += c.watches.size();
            }
        }
        return n;
    }

    private void emit(NodeView v, Change ch) {
        if (v instanceof Transaction t) {
            t.changes.add(ch);
        } else {
            fire(ch);
        }
    }

    private void fire(Change ch) {
        for (Connection c : connections) {
            for (Watch w : c.watches) {
                if (w.path().startsWith("@")) {
                    continue;
                }
                boolean match = ch.exact() ? w.path().equals(ch.path()) : Paths.isChild(ch.path(), w.path());
                if (match && watchPermitted(c, ch)) {
                    c.sink.watchEvent(w.eventPath(ch.path()), w.token());
                    count(c.domid, WATCH_EVENTS);
                }
            }
        }
    }

    /** C's {@code watch_permitted}: the watcher may read the node or its parent. */
    private boolean watchPermitted(Connection c, Change ch) {
        if (c.privileged || (access(c, ch.node().perms) & PERM_READ) != 0) {
            return true;
        }
        Node parent = ch.path().equals("/") ? null : tree.lookup(Paths.parent(ch.path()));
        return parent != null && (access(c, parent.perms) & PERM_READ) != 0;
    }

    private void fireSpecial(String name) {
        List<XsPerm> perms = specialPerms.get(name);
        for (Connection c : connections) {
            if ((access(c, perms) & PERM_READ) == 0) {
                continue;
            }
            for (Watch w : c.watches) {
                if (w.path().equals(name)) {
                    c.sink.watchEvent(name, w.token());
                    count(c.domid, WATCH_EVENTS);
                }
            }
        }
    }
}
