package io.backplane.bench.fuzz;

import io.backplane.xs.wire.XsWire;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;

/**
 * Random xs_wire frames, mostly almost right (a real type, plausible paths and values, the odd
 * missing NUL or bad number) so they get past the first checks, some plain garbage, some that
 * lie about their length. Paths come from a vocabulary that never names what the well-behaved
 * clients use, except the ones a guest must not reach: the fuzzers attack those on purpose.
 */
final class XsFrameGenerator {
    /** What a frame announces versus what follows it. */
    enum Shape { WHOLE, OVERSIZED, TRUNCATED }

    record Frame(ByteBuffer bytes, Shape shape) {
    }

    private final Random random;
    private final List<String> paths;
    /** Domain ids the domain operations may name: none of the domains the checker uses. */
    private static final List<String> DOMIDS = List.of("100", "101", "7000", "abc", "-1", "32752", "4294967296", "");
    private static final List<String> PERMS = List.of("n0", "r1", "w2", "b3", "n100", "x5", "r", "", "n99999999");

    XsFrameGenerator(Random random, List<String> paths) {
        this.random = random;
        this.paths = paths;
    }

    Frame next() {
        int type = switch (random.nextInt(20)) {
            case 0 -> random.nextInt();                        // anything
            case 1 -> XsWire.WATCH_EVENT + random.nextInt(6);  // replies and retired types sent as requests
            default -> random.nextInt(XsWire.TYPE_COUNT);
        };
        int txId = switch (random.nextInt(10)) {
            case 0 -> random.nextInt();
            case 1, 2, 3 -> 1 + random.nextInt(4); // likely a transaction this connection opened
            default -> 0;
        };
        byte[] payload = random.nextInt(12) == 0 ? garbage() : payload(type);
        Shape shape = switch (random.nextInt(40)) {
            case 0 -> Shape.OVERSIZED;
            case 1 -> Shape.TRUNCATED;
            default -> Shape.WHOLE;
        };
        int announced = switch (shape) {
            case OVERSIZED -> XsWire.PAYLOAD_MAX + 1 + random.nextInt(Integer.MAX_VALUE - XsWire.PAYLOAD_MAX - 1);
            case TRUNCATED -> payload.length + 1 + random.nextInt(64);
            case WHOLE -> payload.length;
        };
        ByteBuffer b = ByteBuffer.allocate(XsWire.HEADER_LENGTH + payload.length).order(XsWire.ORDER);
        b.putInt(type).putInt(random.nextInt()).putInt(txId).putInt(announced).put(payload).flip();
        return new Frame(b, shape);
    }

    private byte[] garbage() {
        byte[] g = new byte[random.nextInt(XsWire.PAYLOAD_MAX + 1)];
        random.nextBytes(g);
        return g;
    }

    private byte[] payload(int type) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        switch (type) {
            case XsWire.WRITE -> {
                arg(out, path());
                out.writeBytes(value());
                return out.toByteArray(); // WRITE's value is not NUL-terminated
            }
            case XsWire.SET_PERMS -> {
                arg(out, path());
                for (int i = random.nextInt(8); i >= 0; i--) {
                    arg(out, PERMS.get(random.nextInt(PERMS.size())));
                }
            }
            case XsWire.WATCH, XsWire.UNWATCH -> {
                arg(out, path());
                arg(out, "tok" + random.nextInt(4));
            }
            case XsWire.TRANSACTION_END -> arg(out, List.of("T", "F", "X", "").get(random.nextInt(4)));
            case XsWire.INTRODUCE -> {
                arg(out, domid());
                arg(out, Integer.toString(random.nextInt(1 << 20)));
                arg(out, Integer.toString(random.nextInt(10)));
            }
            case XsWire.RELEASE, XsWire.IS_DOMAIN_INTRODUCED, XsWire.GET_DOMAIN_PATH, XsWire.RESUME -> arg(out, domid());
            case XsWire.SET_TARGET -> {
                arg(out, domid());
                arg(out, domid());
            }
            case XsWire.DIRECTORY_PART -> {
                arg(out, path());
                arg(out, Integer.toString(random.nextInt(5000) - 100));
            }
            case XsWire.CONTROL -> arg(out, List.of("check", "help", "log", "quota", "").get(random.nextInt(5)));
            default -> arg(out, path());
        }
        byte[] p = out.toByteArray();
        // now and then drop the last NUL or add a stray argument
        return switch (random.nextInt(15)) {
            case 0 -> p.length > 0 ? java.util.Arrays.copyOf(p, p.length - 1) : p;
            case 1 -> {
                out.writeBytes("extra\0".getBytes(StandardCharsets.US_ASCII));
                yield out.toByteArray();
            }
            default -> p;
        };
    }

    private void arg(ByteArrayOutputStream out, String s) {
        out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
        out.write(0);
    }

    private String path() {
        String p = paths.get(random.nextInt(paths.size()));
        return switch (random.nextInt(10)) {
            case 0 -> p + "/" + Integer.toString(random.nextInt(1000), 36);
            case 1 -> p + "/x".repeat(random.nextInt(1600)); // near and over the path limits
            default -> p;
        };
    }

    private byte[] value() {
        byte[] v = new byte[random.nextInt(8) == 0 ? random.nextInt(XsWire.PAYLOAD_MAX) : random.nextInt(16)];
        random.nextBytes(v);
        return v;
    }

    private String domid() {
        return DOMIDS.get(random.nextInt(DOMIDS.size()));
    }
}
