package io.backplane.xenstore.command;

import java.nio.charset.StandardCharsets;

import io.backplane.api.xenstore.XenStore;
import io.backplane.api.xenstore.XsError;
import io.backplane.api.xenstore.XsException;

/**
 * Formats a subtree the way xenstore-ls does when its output is not a terminal:
 * {@code name = "value"}, one space of indent per level, lines kept to 80 columns by cutting a long
 * value short with {@code \...} (xenstore-ls's {@code max_width} and {@code TAG_LEN}).
 */
final class XsLs {
    /** xenstore-ls's width when stdout is not a terminal. */
    static final int MAX_WIDTH = 80;
    /** strlen of xenstore-ls's TAG, {@code  = "..."}: room kept for the value's frame. */
    private static final int TAG_LEN = 8;

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
                if (e.error() == XsError.ENOENT) {
                    continue; // gone while we walked
                }
                if (e.error() != XsError.EACCES) {
                    throw e;
                }
                value = null;
            }
            line(out, depth, name, value);
            try {
                walk(xs, child, depth + 1, out);
            } catch (XsException e) {
                if (e.error() != XsError.ENOENT && e.error() != XsError.EACCES) {
                    throw e;
                }
            }
        }
    }

    /**
     * One line as xenstore-ls prints it ({@code value} null: not readable): the name cut to what
     * fits beside the tag, then the value
     * whole when the line fits, else cut with a trailing {@code \...}. Widths count the raw
     * value's bytes, as the C code's {@code len} does; a negative printf precision means no cut.
     */
    private static void line(StringBuilder out, int depth, String name, String value) {
        out.append(" ".repeat(depth));
        int nameRoom = MAX_WIDTH - TAG_LEN - depth;
        String shownName = nameRoom >= 0 && name.length() > nameRoom ? name.substring(0, nameRoom) : name;
        out.append(shownName);
        if (value == null) {
            out.append(":\n"); // listed but unreadable: xenstore-ls prints the name and a colon
            return;
        }
        int lineWidth = depth + shownName.length();
        String shown = sanitise(value);
        int valueBytes = value.getBytes(StandardCharsets.UTF_8).length;
        if (MAX_WIDTH < lineWidth + valueBytes + TAG_LEN) {
            int room = MAX_WIDTH - TAG_LEN - lineWidth;
            out.append(" = \"").append(room >= 0 && shown.length() > room ? shown.substring(0, room) : shown).append("\\...\"\n");
        } else {
            out.append(" = \"").append(shown).append("\"\n");
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
