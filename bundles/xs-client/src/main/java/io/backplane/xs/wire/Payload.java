package io.backplane.xs.wire;

import io.backplane.api.xenstore.XsError;
import io.backplane.api.xenstore.XsException;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** NUL-separated strings, the body of almost every xs_wire message. */
public final class Payload {
    public static final byte[] OK = strings("OK");

    private Payload() {
    }

    /** Each string followed by a NUL. */
    public static byte[] strings(String... items) {
        return strings(List.of(items));
    }

    public static byte[] strings(List<String> items) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String s : items) {
            out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
            out.write(0);
        }
        return out.toByteArray();
    }

    /** The NUL-terminated strings of {@code p}; bytes after the last NUL are ignored. */
    public static List<String> split(byte[] p) {
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < p.length; i++) {
            if (p[i] == 0) {
                out.add(new String(p, start, i - start, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        return out;
    }

    /** C's {@code onearg}: exactly one string, NUL-terminated at the very end; else EINVAL. */
    public static String oneArg(byte[] p) {
        if (p.length == 0 || indexOfNul(p, 0) != p.length - 1) {
            throw new XsException(XsError.EINVAL, "expected one NUL-terminated argument");
        }
        return new String(p, 0, p.length - 1, StandardCharsets.UTF_8);
    }

    /** Exactly {@code n} NUL-terminated strings; else EINVAL. */
    public static List<String> args(byte[] p, int n) {
        List<String> s = split(p);
        if (s.size() != n) {
            throw new XsException(XsError.EINVAL, "expected " + n + " arguments");
        }
        return s;
    }

    public static int indexOfNul(byte[] p, int from) {
        for (int i = from; i < p.length; i++) {
            if (p[i] == 0) {
                return i;
            }
        }
        return -1;
    }

    /** A decimal number argument; EINVAL when it is not one. */
    public static long number(String s) {
        if (s.isEmpty() || s.length() > 19) {
            throw new XsException(XsError.EINVAL, "bad number '" + s + "'");
        }
        for (int i = 0; i < s.length(); i++) {
            if (!Character.isDigit(s.charAt(i))) {
                throw new XsException(XsError.EINVAL, "bad number '" + s + "'");
            }
        }
        return Long.parseLong(s);
    }

    public static int domid(String s) {
        long d = number(s);
        if (d > 0xFFFF) {
            throw new XsException(XsError.EINVAL, "bad domain id '" + s + "'");
        }
        return (int) d;
    }

    public static String text(byte[] p) {
        return new String(p, StandardCharsets.UTF_8);
    }
}
