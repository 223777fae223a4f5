package io.backplane.xenstore.command;

import io.backplane.api.xenstore.XenStore;
import io.backplane.api.xenstore.XsError;
import io.backplane.api.xenstore.XsException;

/** Formats a subtree the way xenstore-ls does: {@code name = "value"}, one space of indent per level. */
final class XsLs {
    private XsLs() {
    }

    static String ls(XenStore xs, String path) {
        StringBuilder out = new StringBuilder();
        walk(xs, path, 0, out);
        return out.toString();
    }

    private static void walk(XenStore xs, String path, int depth, StringBuilder out) {
        for (String name : xs.directory(path)) {
            String child = path.endsWith("/") ? path + name : path + "/" + name;
            String value;
            try {
                value = xs.read(child);
            } catch (XsException e) {
                if (e.error() == XsError.ENOENT || e.error() == XsError.EACCES) {
                    continue; // gone or hidden while we walked, as xenstore-ls skips it
                }
                throw e;
            }
            out.append(" ".repeat(depth)).append(name).append(" = \"").append(sanitise(value)).append("\"\n");
            try {
                walk(xs, child, depth + 1, out);
            } catch (XsException e) {
                if (e.error() != XsError.ENOENT && e.error() != XsError.EACCES) {
                    throw e;
                }
            }
        }
    }

    /** libxenstore's {@code xs_sanitise_value}: C escapes for control characters and backslash. */
    static String sanitise(String v) {
        StringBuilder b = new StringBuilder(v.length());
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            switch (c) {
                case '\\' -> b.append("\\\\");
                case 7 -> b.append("\\a");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case 11 -> b.append("\\v");
                default -> {
                    if (c < ' ' || c == 127) {
                        b.append(String.format("\\x%02x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.toString();
    }
}
