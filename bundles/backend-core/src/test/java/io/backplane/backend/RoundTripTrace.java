package io.backplane.backend;

import io.backplane.api.xenstore.XenStore;
import io.backplane.api.xenstore.XsOps;
import io.backplane.api.xenstore.XsPerm;
import io.backplane.api.xenstore.XsTransaction;
import io.backplane.api.xenstore.XsWatch;
import io.backplane.api.xenstore.XsWatchListener;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A XenStore connection that notes, in {@code trace}, each exchange with xenstored its user waits
 * for: one entry per request, except that reads (and writes) sent together are one entry, as they
 * are one round trip on a socket connection ({@code SocketXenStore} sends them before awaiting
 * the first reply). What an adoption waits for, counted.
 */
final class RoundTripTrace implements XenStore {
    /** The prefix of this class's entries in the trace (a driver's entries share the list). */
    static final String PREFIX = "xs ";

    private final XenStore xs;
    private final List<String> trace;

    RoundTripTrace(XenStore xs, List<String> trace) {
        this.xs = xs;
        this.trace = trace;
        this.direct = new Ops(xs);
    }

    /** The entries of this class in {@code entries}, without the prefix. */
    static List<String> of(List<String> entries) {
        return entries.stream().filter(e -> e.startsWith(PREFIX)).map(e -> e.substring(PREFIX.length())).toList();
    }

    private void note(String what) {
        trace.add(PREFIX + what);
    }

    /** The node operations of the connection or of a transaction, noted. */
    private class Ops implements XsOps {
        private final XsOps ops;

        Ops(XsOps ops) {
            this.ops = ops;
        }

        @Override
        public String read(String path) {
            note("read " + path);
            return ops.read(path);
        }

        @Override
        public List<Optional<String>> tryReadAll(List<String> paths) {
            note("read " + paths.size() + " together");
            return ops.tryReadAll(paths);
        }

        @Override
        public List<Optional<String>> tryReadAllThenWrite(List<String> reads, Map<String, String> writes) {
            note("read " + reads.size() + " and write " + writes.size() + " together");
            return ops.tryReadAllThenWrite(reads, writes);
        }

        @Override
        public void write(String path, String value) {
            note("write " + path);
            ops.write(path, value);
        }

        @Override
        public void mkdir(String path) {
            note("mkdir " + path);
            ops.mkdir(path);
        }

        @Override
        public void rm(String path) {
            note("rm " + path);
            ops.rm(path);
        }

        @Override
        public List<String> directory(String path) {
            note("directory " + path);
            return ops.directory(path);
        }

        @Override
        public List<XsPerm> getPerms(String path) {
            note("get-perms " + path);
            return ops.getPerms(path);
        }

        @Override
        public void setPerms(String path, List<XsPerm> perms) {
            note("set-perms " + path);
            ops.setPerms(path, perms);
        }
    }

    private final class Tx extends Ops implements XsTransaction {
        private final XsTransaction tx;
        private boolean ended;

        Tx(XsTransaction tx) {
            super(tx);
            this.tx = tx;
        }

        @Override
        public void commit() {
            ended = true;
            note("commit");
            tx.commit();
        }

        @Override
        public void abort() {
            if (!ended) {
                ended = true;
                note("abort");
            }
            tx.abort();
        }
    }

    private final Ops direct;

    // The connection's node operations, noted as a transaction's are.

    @Override
    public String read(String path) {
        return direct.read(path);
    }

    @Override
    public List<Optional<String>> tryReadAll(List<String> paths) {
        return direct.tryReadAll(paths);
    }

    @Override
    public List<Optional<String>> tryReadAllThenWrite(List<String> reads, Map<String, String> writes) {
        return direct.tryReadAllThenWrite(reads, writes);
    }

    @Override
    public void write(String path, String value) {
        direct.write(path, value);
    }

    @Override
    public void mkdir(String path) {
        direct.mkdir(path);
    }

    @Override
    public void rm(String path) {
        direct.rm(path);
    }

    @Override
    public List<String> directory(String path) {
        return direct.directory(path);
    }

    @Override
    public List<XsPerm> getPerms(String path) {
        return direct.getPerms(path);
    }

    @Override
    public void setPerms(String path, List<XsPerm> perms) {
        direct.setPerms(path, perms);
    }

    @Override
    public XsTransaction begin() {
        note("begin");
        return new Tx(xs.begin());
    }

    @Override
    public XsWatch watch(String path, String token, XsWatchListener listener) {
        note("watch " + path);
        XsWatch w = xs.watch(path, token, listener);
        return new XsWatch() {
            @Override
            public String path() {
                return w.path();
            }

            @Override
            public String token() {
                return w.token();
            }

            @Override
            public void close() {
                note("unwatch " + path);
                w.close();
            }
        };
    }

    @Override
    public String getDomainPath(int domid) {
        note("get-domain-path");
        return xs.getDomainPath(domid);
    }

    @Override
    public void introduceDomain(int domid, long storeGfn, int storeEventChannel) {
        note("introduce");
        xs.introduceDomain(domid, storeGfn, storeEventChannel);
    }

    @Override
    public void releaseDomain(int domid) {
        note("release");
        xs.releaseDomain(domid);
    }

    @Override
    public boolean isDomainIntroduced(int domid) {
        note("is-domain-introduced");
        return xs.isDomainIntroduced(domid);
    }

    @Override
    public void setTarget(int domid, int targetDomid) {
        note("set-target");
        xs.setTarget(domid, targetDomid);
    }
}
