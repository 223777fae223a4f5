package io.backplane.xenstore.store;

import io.backplane.api.xenstore.XsPerm;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The byte layout of a store and of a connection handed to an updated XenStore bundle. Versioned:
 * an image of another version is refused rather than misread, except version 1 (before the
 * per-domain activity counters were in it: they then start again). Quotas are not in it (they
 * come from the successor's configuration).
 */
final class StoreImage {
    static final int VERSION = 2;
    /** The oldest image this bundle reads (a predecessor of that version hands over to it). */
    static final int OLDEST = 1;

    private StoreImage() {
    }

    static byte[] write(Store s) {
        return bytes(out -> {
            out.writeInt(VERSION);
            out.writeLong(s.generation());
            out.writeInt(s.nodes().size());
            for (Map.Entry<String, Node> e : s.nodes().entrySet()) {
                Node n = e.getValue();
                out.writeUTF(e.getKey());
                out.writeInt(n.value.length);
                out.write(n.value);
                writePerms(out, n.perms);
                out.writeInt(n.children.size());
                for (String c : n.children) {
                    out.writeUTF(c);
                }
                out.writeLong(n.generation);
            }
            out.writeInt(s.owned().size());
            for (Map.Entry<Integer, Integer> e : s.owned().entrySet()) {
                out.writeInt(e.getKey());
                out.writeInt(e.getValue());
            }
            out.writeInt(s.specialPerms().size());
            for (Map.Entry<String, List<XsPerm>> e : s.specialPerms().entrySet()) {
                out.writeUTF(e.getKey());
                writePerms(out, e.getValue());
            }
            out.writeInt(s.domainRecords().size());
            for (Domain d : s.domainRecords().values()) {
                out.writeInt(d.domid);
                out.writeLong(d.storeGfn);
                out.writeInt(d.storeEventChannel);
                out.writeInt(d.target);
            }
            Map<Integer, long[]> activity = s.activity();
            out.writeInt(activity.size());
            for (Map.Entry<Integer, long[]> e : activity.entrySet()) {
                out.writeInt(e.getKey());
                for (long v : e.getValue()) {
                    out.writeLong(v);
                }
            }
        });
    }

    /** Fills the fresh store {@code s} (its constructor's nodes are replaced). */
    static void read(byte[] image, Store s) {
        in(image, (in, version) -> {
            s.generation(in.readLong());
            s.nodes().clear();
            for (int i = in.readInt(); i > 0; i--) {
                String path = in.readUTF();
                byte[] value = in.readNBytes(in.readInt());
                List<XsPerm> perms = readPerms(in);
                List<String> children = new ArrayList<>();
                for (int c = in.readInt(); c > 0; c--) {
                    children.add(in.readUTF());
                }
                s.nodes().put(path, new Node(value, perms, List.copyOf(children), in.readLong()));
            }
            s.owned().clear();
            for (int i = in.readInt(); i > 0; i--) {
                s.owned().put(in.readInt(), in.readInt());
            }
            s.specialPerms().clear();
            for (int i = in.readInt(); i > 0; i--) {
                s.specialPerms().put(in.readUTF(), readPerms(in));
            }
            for (int i = in.readInt(); i > 0; i--) {
                Domain d = new Domain(in.readInt(), in.readLong(), in.readInt());
                d.target = in.readInt();
                s.domainRecords().put(d.domid, d);
            }
            if (version >= 2) {
                for (int i = in.readInt(); i > 0; i--) {
                    s.activity(in.readInt(), new long[] {in.readLong(), in.readLong(), in.readLong()});
                }
            }
        });
    }

    static byte[] writeConnection(Connection c) {
        return bytes(out -> {
            out.writeInt(VERSION);
            out.writeInt(c.domid);
            out.writeBoolean(c.privileged);
            out.writeInt(c.nextTransactionId);
            out.writeInt(c.watches.size());
            for (Watch w : c.watches) {
                out.writeUTF(w.path());
                out.writeUTF(w.token());
                out.writeBoolean(w.relativeTo() != null);
                if (w.relativeTo() != null) {
                    out.writeUTF(w.relativeTo());
                }
            }
            out.writeInt(c.transactions.size());
            for (int id : c.transactions.keySet()) {
                out.writeInt(id);
            }
        });
    }

    static Connection readConnection(byte[] image, long id, WatchEventSink sink, NodeView tree) {
        Connection[] c = new Connection[1];
        in(image, (in, version) -> {
            c[0] = new Connection(id, in.readInt(), in.readBoolean(), sink);
            c[0].nextTransactionId = in.readInt();
            for (int i = in.readInt(); i > 0; i--) {
                String path = in.readUTF();
                String token = in.readUTF();
                c[0].watches.add(new Watch(path, token, in.readBoolean() ? in.readUTF() : null));
            }
            for (int i = in.readInt(); i > 0; i--) {
                int tx = in.readInt();
                c[0].transactions.put(tx, new Transaction(tx, tree, true));
            }
        });
        return c[0];
    }

    private static void writePerms(DataOutputStream out, List<XsPerm> perms) throws IOException {
        out.writeInt(perms.size());
        for (XsPerm p : perms) {
            out.writeUTF(p.toString());
        }
    }

    private static List<XsPerm> readPerms(DataInputStream in) throws IOException {
        List<XsPerm> perms = new ArrayList<>();
        for (int i = in.readInt(); i > 0; i--) {
            perms.add(XsPerm.parse(in.readUTF()));
        }
        return List.copyOf(perms);
    }

    private interface Writer {
        void write(DataOutputStream out) throws IOException;
    }

    private interface Reader {
        void read(DataInputStream in, int version) throws IOException;
    }

    private static byte[] bytes(Writer w) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(b)) {
            w.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array does not fail
        }
        return b.toByteArray();
    }

    private static void in(byte[] image, Reader r) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(image))) {
            int version = in.readInt();
            if (version < OLDEST || version > VERSION) {
                throw new IllegalArgumentException("a XenStore image of version " + version + ", this bundle reads "
                        + OLDEST + " to " + VERSION);
            }
            r.read(in, version);
        } catch (IOException e) {
            throw new IllegalArgumentException("a truncated XenStore image: " + e, e);
        }
    }
}
