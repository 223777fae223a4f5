package io.backplane.xs.client;

import io.backplane.api.xenstore.XenStore;
import io.backplane.api.xenstore.XsError;
import io.backplane.api.xenstore.XsException;
import io.backplane.api.xenstore.XsOps;
import io.backplane.api.xenstore.XsPerm;
import io.backplane.api.xenstore.XsTransaction;
import io.backplane.api.xenstore.XsWatch;
import io.backplane.api.xenstore.XsWatchListener;

import io.backplane.xs.wire.Payload;
import io.backplane.xs.wire.XsWire;
import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A XenStore connection over xs_wire to any xenstored Unix socket: Backplane's own, or a real
 * dom0's {@code /var/run/xenstored/socket}. Requests may come from many threads; each carries
 * its own req_id, and a reader thread matches replies to them and hands WATCH_EVENTs to this
 * connection's event thread.
 */
public final class SocketXenStore implements XenStore, ForwardingXsOps, AutoCloseable {
    private final SocketChannel channel;
    private final Path socket;
    private final Map<Integer, CompletableFuture<Reply>> pending = new ConcurrentHashMap<>();
    private final AtomicInteger nextReqId = new AtomicInteger();
    private final WatchDispatcher dispatcher;
    private final Thread reader;
    private final Ops direct = new Ops(0);
    private volatile IOException failure;

    private record Reply(int type, byte[] payload) {
    }

    public SocketXenStore(Path socket) throws IOException {
        this.socket = socket;
        this.channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(socket));
        this.dispatcher = new WatchDispatcher("xenstore-events-" + socket);
        this.reader = new Thread(this::readLoop, "xenstore-reader-" + socket);
        reader.setDaemon(true);
        reader.start();
    }

    private void readLoop() {
        ByteBuffer header = XsWire.newHeader();
        try {
            while (true) {
                header.clear();
                readFully(header);
                int len = header.getInt(XsWire.LEN_OFFSET);
                if (Integer.compareUnsigned(len, XsWire.PAYLOAD_MAX) > 0) {
                    throw new IOException("xenstored sent a frame of " + Integer.toUnsignedString(len) + " bytes");
                }
                ByteBuffer payload = ByteBuffer.allocate(len);
                readFully(payload);
                int type = header.getInt(XsWire.TYPE_OFFSET);
                if (type == XsWire.WATCH_EVENT) {
                    List<String> s = Payload.split(payload.array());
                    if (s.size() >= 2) {
                        dispatcher.dispatch(s.get(0), s.get(1));
                    }
                    continue;
                }
                CompletableFuture<Reply> f = pending.remove(header.getInt(XsWire.REQ_ID_OFFSET));
                if (f != null) {
                    f.complete(new Reply(type, payload.array()));
                }
            }
        } catch (IOException e) {
            failure = e;
        } finally {
            XsException gone = new XsException(XsError.EIO, "connection to " + socket + " lost");
            pending.values().forEach(f -> f.completeExceptionally(gone));
            pending.clear();
        }
    }

    private void readFully(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (channel.read(b) < 0) {
                throw new EOFException("xenstored closed the connection");
            }
        }
    }

    /** Sends one request and waits for its reply; ERROR replies become {@link XsException}s. */
    private byte[] call(int type, int txId, byte[] payload) {
        return await(type, send(type, txId, payload));
    }

    /** Sends one request; its reply completes the future. */
    private CompletableFuture<Reply> send(int type, int txId, byte[] payload) {
        if (payload.length > XsWire.PAYLOAD_MAX) {
            throw new XsException(XsError.E2BIG, "request larger than " + XsWire.PAYLOAD_MAX + " bytes");
        }
        int reqId = nextReqId.getAndIncrement();
        CompletableFuture<Reply> f = new CompletableFuture<>();
        pending.put(reqId, f);
        if (failure != null || !reader.isAlive()) {
            pending.remove(reqId);
            throw new XsException(XsError.EIO, "connection to " + socket + " lost");
        }
        try {
            ByteBuffer frame = XsWire.frame(type, reqId, txId, payload);
            synchronized (channel) {
                while (frame.hasRemaining()) {
                    channel.write(frame);
                }
            }
            return f;
        } catch (IOException e) {
            pending.remove(reqId);
            throw new XsException(XsError.EIO, e.getMessage());
        }
    }

    /** The reply of a request sent; ERROR replies become {@link XsException}s. */
    private static byte[] await(int type, CompletableFuture<Reply> f) {
        try {
            Reply r = f.get();
            if (r.type() == XsWire.ERROR) {
                List<String> s = Payload.split(r.payload());
                throw new XsException(XsError.fromWire(s.isEmpty() ? "" : s.get(0)), XsWire.typeName(type));
            }
            return r.payload();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new XsException(XsError.EIO, "interrupted");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof XsException x ? x : new XsException(XsError.EIO, e.getCause().toString());
        }
    }

    /** WRITE's payload: the path with its NUL, then the value without one. */
    private static byte[] writePayload(String path, String value) {
        byte[] p = Payload.strings(path);
        byte[] v = value.getBytes(StandardCharsets.UTF_8);
        byte[] both = new byte[p.length + v.length];
        System.arraycopy(p, 0, both, 0, p.length);
        System.arraycopy(v, 0, both, p.length, v.length);
        return both;
    }

    private static String firstString(byte[] p) {
        List<String> s = Payload.split(p);
        return s.isEmpty() ? Payload.text(p) : s.get(0);
    }

    private class Ops implements XsOps {
        final int tx;

        Ops(int tx) {
            this.tx = tx;
        }

        @Override
        public String read(String path) {
            return Payload.text(call(XsWire.READ, tx, Payload.strings(path)));
        }

        /** Every READ sent before the first reply is awaited. */
        @Override
        public List<Optional<String>> tryReadAll(List<String> paths) {
            return tryReadAllThenWrite(paths, Map.of());
        }

        /** Every READ and WRITE sent before the first reply is awaited. */
        @Override
        public List<Optional<String>> tryReadAllThenWrite(List<String> reads, Map<String, String> writes) {
            List<CompletableFuture<Reply>> sent = new ArrayList<>(reads.size());
            for (String path : reads) {
                sent.add(send(XsWire.READ, tx, Payload.strings(path)));
            }
            List<CompletableFuture<Reply>> written = new ArrayList<>(writes.size());
            writes.forEach((path, value) -> written.add(send(XsWire.WRITE, tx, writePayload(path, value))));
            List<Optional<String>> values = new ArrayList<>(reads.size());
            XsException first = null;
            for (CompletableFuture<Reply> f : sent) {
                try {
                    values.add(Optional.of(Payload.text(await(XsWire.READ, f))));
                } catch (XsException e) {
                    if (e.error() != XsError.ENOENT && first == null) {
                        first = e;               // every reply is still taken off the connection
                    }
                    values.add(Optional.empty());
                }
            }
            for (CompletableFuture<Reply> f : written) {
                try {
                    await(XsWire.WRITE, f);
                } catch (XsException e) {
                    if (first == null) {
                        first = e;
                    }
                }
            }
            if (first != null) {
                throw first;
            }
            return values;
        }

        @Override
        public void write(String path, String value) {
            call(XsWire.WRITE, tx, writePayload(path, value));
        }

        @Override
        public void mkdir(String path) {
            call(XsWire.MKDIR, tx, Payload.strings(path));
        }

        @Override
        public void rm(String path) {
            call(XsWire.RM, tx, Payload.strings(path));
        }

        @Override
        public List<String> directory(String path) {
            try {
                return Payload.split(call(XsWire.DIRECTORY, tx, Payload.strings(path)));
            } catch (XsException e) {
                if (e.error() != XsError.E2BIG) {
                    throw e;
                }
                return directoryInParts(path);
            }
        }

        /** libxenstore's DIRECTORY_PART loop: restart when the node's generation moves. */
        private List<String> directoryInParts(String path) {
            restart:
            while (true) {
                List<String> names = new ArrayList<>();
                String generation = null;
                long offset = 0;
                while (true) {
                    byte[] r = call(XsWire.DIRECTORY_PART, tx, Payload.strings(path, Long.toString(offset)));
                    List<String> s = Payload.split(r);
                    if (s.isEmpty()) {
                        throw new XsException(XsError.EIO, "empty DIRECTORY_PART reply");
                    }
                    if (generation != null && !generation.equals(s.get(0))) {
                        continue restart;
                    }
                    generation = s.get(0);
                    List<String> part = s.subList(1, s.size());
                    boolean end = !part.isEmpty() && part.get(part.size() - 1).isEmpty();
                    for (String n : end ? part.subList(0, part.size() - 1) : part) {
                        names.add(n);
                        offset += n.getBytes(StandardCharsets.UTF_8).length + 1;
                    }
                    if (end || part.isEmpty()) {
                        return names;
                    }
                }
            }
        }

        @Override
        public List<XsPerm> getPerms(String path) {
            List<XsPerm> perms = new ArrayList<>();
            for (String s : Payload.split(call(XsWire.GET_PERMS, tx, Payload.strings(path)))) {
                perms.add(XsPerm.parse(s));
            }
            return perms;
        }

        @Override
        public void setPerms(String path, List<XsPerm> perms) {
            List<String> args = new ArrayList<>();
            args.add(path);
            perms.forEach(p -> args.add(p.toString()));
            call(XsWire.SET_PERMS, tx, Payload.strings(args));
        }
    }

    private final class Tx extends Ops implements XsTransaction {
        private boolean ended;

        Tx(int tx) {
            super(tx);
        }

        @Override
        public void commit() {
            ended = true;
            call(XsWire.TRANSACTION_END, tx, Payload.strings("T"));
        }

        @Override
        public void abort() {
            if (!ended) {
                ended = true;
                call(XsWire.TRANSACTION_END, tx, Payload.strings("F"));
            }
        }
    }

    @Override
    public io.backplane.api.xenstore.XsOps nodeOps() {
        return direct;
    }

    @Override
    public XsTransaction begin() {
        String id = firstString(call(XsWire.TRANSACTION_START, 0, Payload.strings("")));
        return new Tx((int) Long.parseLong(id));
    }

    @Override
    public XsWatch watch(String path, String token, XsWatchListener listener) {
        WatchDispatcher.Registration r = dispatcher.add(path, token, listener);
        try {
            call(XsWire.WATCH, 0, Payload.strings(path, token));
        } catch (RuntimeException e) {
            dispatcher.remove(r);
            throw e;
        }
        return new Registered(path, token, r, () -> call(XsWire.UNWATCH, 0, Payload.strings(path, token)), dispatcher);
    }

    @Override
    public String getDomainPath(int domid) {
        return firstString(call(XsWire.GET_DOMAIN_PATH, 0, Payload.strings(Integer.toString(domid))));
    }

    @Override
    public void introduceDomain(int domid, long storeGfn, int storeEventChannel) {
        call(XsWire.INTRODUCE, 0, Payload.strings(Integer.toString(domid), Long.toString(storeGfn),
                Integer.toString(storeEventChannel)));
    }

    @Override
    public void releaseDomain(int domid) {
        call(XsWire.RELEASE, 0, Payload.strings(Integer.toString(domid)));
    }

    @Override
    public boolean isDomainIntroduced(int domid) {
        return firstString(call(XsWire.IS_DOMAIN_INTRODUCED, 0, Payload.strings(Integer.toString(domid)))).equals("T");
    }

    @Override
    public void setTarget(int domid, int targetDomid) {
        call(XsWire.SET_TARGET, 0, Payload.strings(Integer.toString(domid), Integer.toString(targetDomid)));
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        dispatcher.close();
    }
}
