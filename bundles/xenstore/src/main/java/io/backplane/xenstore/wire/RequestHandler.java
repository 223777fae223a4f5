package io.backplane.xenstore.wire;

import io.backplane.api.xenstore.XsError;
import io.backplane.api.xenstore.XsException;
import io.backplane.api.xenstore.XsPerm;
import io.backplane.xenstore.store.Connection;
import io.backplane.xenstore.store.Store;

import io.backplane.xs.wire.Payload;
import io.backplane.xs.wire.XsWire;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * Decodes one xs_wire request, runs it against the store and queues the reply (ERROR with the
 * xs_wire error name on failure), as C xenstored's {@code process_message} does.
 */
public final class RequestHandler {
    private final Store store;

    public RequestHandler(Store store) {
        this.store = store;
    }

    /** Handles a request; {@code out} receives whole reply frames in order. */
    public void handle(Connection c, int type, int reqId, int txId, byte[] payload, Consumer<ByteBuffer> out) {
        store.countRequest(c);
        try {
            if (type < 0 || type >= XsWire.TYPE_COUNT || !isRequest(type)) {
                throw new XsException(XsError.ENOSYS, XsWire.typeName(type));
            }
            if (isPrivileged(type) && !c.privileged()) {
                throw new XsException(XsError.EACCES, XsWire.typeName(type));
            }
            byte[] reply = dispatch(c, type, reqId, txId, payload, out);
            if (reply != null) {
                if (reply.length > XsWire.PAYLOAD_MAX) {
                    throw new XsException(XsError.E2BIG, "reply larger than " + XsWire.PAYLOAD_MAX);
                }
                out.accept(XsWire.frame(type, reqId, txId, reply));
            }
        } catch (XsException e) {
            out.accept(error(reqId, txId, e.error()));
        }
    }

    public static ByteBuffer error(int reqId, int txId, XsError e) {
        return XsWire.frame(XsWire.ERROR, reqId, txId, Payload.strings(e.name()));
    }

    private static boolean isRequest(int type) {
        return type != XsWire.WATCH_EVENT && type != XsWire.ERROR && type != 20;
    }

    /** Types C xenstored flags XS_FLAG_PRIV: refused to guests before anything else. */
    private static boolean isPrivileged(int type) {
        return switch (type) {
            case XsWire.CONTROL, XsWire.INTRODUCE, XsWire.RELEASE, XsWire.IS_DOMAIN_INTRODUCED,
                 XsWire.RESUME, XsWire.SET_TARGET -> true;
            default -> false;
        };
    }

    /** Returns the reply payload, or null when the reply was already queued. */
    private byte[] dispatch(Connection c, int type, int reqId, int txId, byte[] p, Consumer<ByteBuffer> out) {
        switch (type) {
            case XsWire.READ:
                return store.read(c, txId, Payload.oneArg(p));
            case XsWire.WRITE: {
                int nul = Payload.indexOfNul(p, 0);
                if (nul < 0) {
                    throw new XsException(XsError.EINVAL, "WRITE without NUL after the path");
                }
                String path = new String(p, 0, nul, StandardCharsets.UTF_8);
                store.write(c, txId, path, Arrays.copyOfRange(p, nul + 1, p.length));
                return Payload.OK;
            }
            case XsWire.MKDIR:
                store.mkdir(c, txId, Payload.oneArg(p));
                return Payload.OK;
            case XsWire.RM:
                store.rm(c, txId, Payload.oneArg(p));
                return Payload.OK;
            case XsWire.DIRECTORY:
                return Payload.strings(store.directory(c, txId, Payload.oneArg(p)).children());
            case XsWire.DIRECTORY_PART:
                return directoryPart(c, txId, p);
            case XsWire.GET_PERMS:
                return Payload.strings(store.getPerms(c, txId, Payload.oneArg(p)).stream().map(XsPerm::toString).toList());
            case XsWire.SET_PERMS: {
                List<String> s = Payload.split(p);
                if (s.size() < 2) {
                    throw new XsException(XsError.EINVAL, "SET_PERMS needs a path and a permission");
                }
                List<XsPerm> perms = new ArrayList<>();
                for (String perm : s.subList(1, s.size())) {
                    perms.add(XsPerm.parse(perm));
                }
                store.setPerms(c, txId, s.get(0), perms);
                return Payload.OK;
            }
            case XsWire.WATCH: {
                List<String> s = Payload.args(p, 2);
                store.watch(c, s.get(0), s.get(1), () -> out.accept(XsWire.frame(XsWire.WATCH, reqId, txId, Payload.OK)));
                return null;
            }
            case XsWire.UNWATCH: {
                List<String> s = Payload.args(p, 2);
                store.unwatch(c, s.get(0), s.get(1));
                return Payload.OK;
            }
            case XsWire.TRANSACTION_START:
                return Payload.strings(Integer.toUnsignedString(store.transactionStart(c, txId)));
            case XsWire.TRANSACTION_END: {
                String arg = Payload.oneArg(p);
                if (!arg.equals("T") && !arg.equals("F")) {
                    throw new XsException(XsError.EINVAL, "TRANSACTION_END takes T or F");
                }
                store.transactionEnd(c, txId, arg.equals("T"));
                return Payload.OK;
            }
            case XsWire.INTRODUCE: {
                List<String> s = Payload.split(p);
                if (s.size() < 3) {
                    throw new XsException(XsError.EINVAL, "INTRODUCE needs domid, gfn and event channel");
                }
                store.introduce(c, Payload.domid(s.get(0)), Payload.number(s.get(1)), (int) Payload.number(s.get(2)));
                return Payload.OK;
            }
            case XsWire.RELEASE:
                store.release(c, Payload.domid(Payload.oneArg(p)));
                return Payload.OK;
            case XsWire.IS_DOMAIN_INTRODUCED:
                return Payload.strings(store.isIntroduced(c, Payload.domid(Payload.oneArg(p))) ? "T" : "F");
            case XsWire.GET_DOMAIN_PATH:
                return Payload.strings(store.domainPath(Payload.domid(Payload.oneArg(p))));
            case XsWire.SET_TARGET: {
                List<String> s = Payload.args(p, 2);
                store.setTarget(c, Payload.domid(s.get(0)), Payload.domid(s.get(1)));
                return Payload.OK;
            }
            case XsWire.RESUME:
                store.resume(c, Payload.domid(Payload.oneArg(p)));
                return Payload.OK;
            case XsWire.RESET_WATCHES:
                store.resetWatches(c);
                return Payload.OK;
            case XsWire.CONTROL:
                return control(Payload.split(p));
            default:
                throw new XsException(XsError.ENOSYS, XsWire.typeName(type));
        }
    }

    /**
     * DIRECTORY_PART {@code path|offset|}: the node's generation, then as many child names from
     * byte offset {@code offset} as fit, and an extra NUL when the list ends (C's
     * {@code send_directory_part}).
     */
    private byte[] directoryPart(Connection c, int txId, byte[] p) {
        List<String> s = Payload.args(p, 2);
        Store.Listing l = store.directory(c, txId, s.get(0));
        long off = Payload.number(s.get(1));
        byte[] gen = Payload.strings(Long.toString(l.generation()));
        byte[] all = Payload.strings(l.children());
        if (off >= all.length) {
            byte[] r = Arrays.copyOf(gen, gen.length + 1);
            return r;
        }
        int start = (int) off;
        int max = XsWire.PAYLOAD_MAX - gen.length - 1;
        int len = 0;
        boolean end = false;
        while (true) {
            int nul = Payload.indexOfNul(all, start + len);
            int nameLen = nul - (start + len);
            if (len + nameLen >= max) {
                break;
            }
            len += nameLen + 1;
            if (start + len == all.length) {
                end = true;
                break;
            }
        }
        byte[] r = new byte[gen.length + len + (end ? 1 : 0)];
        System.arraycopy(gen, 0, r, 0, gen.length);
        System.arraycopy(all, start, r, gen.length, len);
        return r;
    }

    /** CONTROL (XS_DEBUG): the few commands a toolstack may send. */
    private byte[] control(List<String> args) {
        if (args.isEmpty()) {
            throw new XsException(XsError.EINVAL, "CONTROL needs a command");
        }
        return switch (args.get(0)) {
            case "help" -> Payload.strings("Available commands:\ncheck\nhelp\n");
            case "check" -> Payload.OK;
            default -> throw new XsException(XsError.EINVAL, "unknown control command " + args.get(0));
        };
    }
}
