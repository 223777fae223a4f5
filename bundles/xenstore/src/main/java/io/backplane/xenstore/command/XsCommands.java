package io.backplane.xenstore.command;

import io.backplane.api.xenstore.XenStore;
import io.backplane.api.xenstore.XsError;
import io.backplane.api.xenstore.XsException;
import io.backplane.api.xenstore.XsPerm;
import io.backplane.api.xenstore.XsWatch;
import io.backplane.xenstore.XenStoreStatus;
import io.backplane.xenstore.store.StoreStats;
import io.backplane.xs.wire.XsWire;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/** The {@code xs:} Gogo commands: XenStore from the shell, as Xen's xenstore-* tools do it. */
@Component(service = XsCommands.class, property = {
    "osgi.command.scope=xs",
    "osgi.command.function=ls",
    "osgi.command.function=read",
    "osgi.command.function=write",
    "osgi.command.function=rm",
    "osgi.command.function=perms",
    "osgi.command.function=watch",
    "osgi.command.function=stat"})
public class XsCommands {

    private final XenStore xs;
    private final XenStoreStatus status;

    @org.osgi.service.component.annotations.Activate
    public XsCommands(@Reference XenStore xs, @Reference XenStoreStatus status) {
        this.xs = xs;
        this.status = status;
    }

    @Descriptor("List the XenStore tree under / like xenstore-ls")
    public String ls() {
        return ls("/");
    }

    @Descriptor("List the XenStore tree under PATH like xenstore-ls")
    public String ls(@Descriptor("node path, absolute or relative to /local/domain/0") String path) {
        return run("xs:ls", path, () -> XsLs.ls(xs, path));
    }

    @Descriptor("Print a node's value")
    public String read(@Descriptor("node path") String path) {
        return run("xs:read", path, () -> xs.read(path));
    }

    @Descriptor("Write a node's value, creating it and its parents")
    public void write(@Descriptor("node path") String path, @Descriptor("value") String value) {
        run("xs:write", path, () -> {
            xs.write(path, value);
            return null;
        });
    }

    @Descriptor("Remove a node and everything under it")
    public void rm(@Descriptor("node path") String path) {
        run("xs:rm", path, () -> {
            xs.rm(path);
            return null;
        });
    }

    @Descriptor("Show a node's permissions (owner first), or set them: xs:perms PATH n0 r5")
    public String perms(@Descriptor("node path") String path,
                        @Descriptor("new permissions: letter n, r, w or b and a domain id; the first names the owner") String... perms) {
        return run("xs:perms", path, () -> {
            if (perms.length > 0) {
                List<XsPerm> list = new ArrayList<>();
                for (String p : perms) {
                    list.add(XsPerm.parse(p));
                }
                xs.setPerms(path, list);
            }
            return xs.getPerms(path).stream().map(XsPerm::toString).collect(Collectors.joining(" "));
        });
    }

    @Descriptor("Watch PATH and its descendants, printing each changed path until interrupted (Ctrl-C)")
    public void watch(@Descriptor("stop after this many events (0: never)") @Parameter(names = {"-n", "--count"}, absentValue = "0") int count,
                      @Descriptor("node path or @introduceDomain / @releaseDomain") String path) {
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        PrintStream out = System.out; // the session's stream, bound to this thread by Gogo
        XsWatch w = run("xs:watch", path, () -> xs.watch(path, "xs:watch", (p, t) -> events.add(p)));
        try {
            for (int seen = 0; count == 0 || seen < count; seen++) {
                out.println(events.take());
                out.flush();
            }
        } catch (InterruptedException e) {
            // Ctrl-C in the shell: the normal way to stop watching
            Thread.currentThread().interrupt();
        } finally {
            w.close();
        }
    }

    @Descriptor("XenStore statistics: nodes, connections, watches, transactions and per-domain quota use")
    public String stat() {
        StringBuilder b = new StringBuilder();
        b.append("mode: ").append(status.mode()).append('\n');
        b.append("socket: ").append(status.socket()).append('\n');
        if (status.stats().isEmpty()) {
            b.append("(the store runs in another xenstored; no statistics)\n");
            return b.toString();
        }
        StoreStats s = status.stats().get();
        b.append("nodes: ").append(s.nodes()).append('\n');
        b.append("connections: ").append(s.connections()).append(" (").append(status.openConnections()).append(" on sockets)\n");
        b.append("watches: ").append(s.watches()).append('\n');
        b.append("transactions: ").append(s.transactions()).append('\n');
        b.append(String.format("%-6s %-10s %-12s %-10s %-12s %-10s %-10s %s%n", "domain", "introduced", "nodes", "watches",
                "transactions", "requests", "quota-hits", "watch-events"));
        for (StoreStats.DomainUse d : s.domains()) {
            boolean exempt = d.domid() == 0;
            b.append(String.format("%-6d %-10s %-12s %-10s %-12s %-10d %-10d %d%n", d.domid(), d.introduced() ? "yes" : "no",
                    use(d.nodes(), s.quotas().maxNodesPerDomain(), exempt),
                    use(d.watches(), s.quotas().maxWatchesPerDomain(), exempt),
                    Integer.toString(d.transactions()), d.requests(), d.quotaHits(), d.watchEvents()));
        }
        return b.toString();
    }

    private static String use(int n, int quota, boolean exempt) {
        return exempt ? Integer.toString(n) : n + "/" + quota;
    }

    /** Runs a command body, turning XenStore errors into one-line messages. */
    private static <T> T run(String command, String path, Supplier<T> body) {
        try {
            return body.get();
        } catch (XsException e) {
            throw new IllegalArgumentException(command + " " + path + ": " + explain(e.error()));
        }
    }

    static String explain(XsError e) {
        return switch (e) {
            case ENOENT -> "no such node (ENOENT)";
            case EACCES -> "permission denied (EACCES)";
            case EINVAL -> "invalid path or argument (EINVAL)";
            case EEXIST -> "already exists (EEXIST)";
            case E2BIG -> "over XenStore's " + XsWire.PAYLOAD_MAX + "-byte request size, or too many watches (E2BIG)";
            case ENOSPC -> "quota exceeded (ENOSPC)";
            case EPERM -> "not permitted (EPERM)";
            case EAGAIN -> "conflicting change, try again (EAGAIN)";
            case EIO -> "XenStore connection failed (EIO)";
            default -> e.name();
        };
    }
}
