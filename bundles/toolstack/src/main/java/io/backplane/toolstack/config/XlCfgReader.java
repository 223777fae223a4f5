package io.backplane.toolstack.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The xl domain config syntax (libxlu_cfg): {@code name = value} settings ended by a newline or
 * {@code ;}, values a quoted string, a number or a {@code [ ... ]} list of them (lists may span
 * lines and end with a comma), {@code #} comments, {@code +=} appending to a list. A later
 * setting of the same name replaces an earlier one, as in xl. Every value keeps its line.
 */
final class XlCfgReader {

    /** One scalar with the line it was on. */
    record Item(String text, boolean quoted, int line) {
    }

    /** A setting: a scalar ({@code list == null}) or a list. */
    record Setting(String name, Item scalar, List<Item> list, int line) {
    }

    private final String source;
    private final String text;
    private int pos;
    private int line = 1;

    private XlCfgReader(String source, String text) {
        this.source = source;
        this.text = text;
    }

    static Map<String, Setting> read(String source, String text) {
        return new XlCfgReader(source, text).settings();
    }

    private Map<String, Setting> settings() {
        Map<String, Setting> out = new LinkedHashMap<>();
        while (true) {
            skipBlanks(true);
            if (pos >= text.length()) {
                return out;
            }
            int start = line;
            String name = identifier();
            skipBlanks(false);
            boolean append = text.startsWith("+=", pos);
            if (append) {
                pos += 2;
            } else if (pos < text.length() && text.charAt(pos) == '=') {
                pos++;
            } else {
                throw error("expected '=' after '" + name + "'");
            }
            skipBlanks(false);
            Setting s;
            if (pos < text.length() && text.charAt(pos) == '[') {
                s = new Setting(name, null, list(), start);
            } else {
                s = new Setting(name, scalar(), null, start);
            }
            if (append) {
                Setting prev = out.get(name);
                if (s.list() == null || (prev != null && prev.list() == null)) {
                    throw new ConfigException(source, start, "'+=' needs a list on both sides for '" + name + "'");
                }
                if (prev != null) {
                    List<Item> joined = new ArrayList<>(prev.list());
                    joined.addAll(s.list());
                    s = new Setting(name, null, joined, prev.line());
                }
            }
            out.remove(name); // keep file order of the last setting
            out.put(name, s);
            endOfStatement();
        }
    }

    private String identifier() {
        int s = pos;
        while (pos < text.length() && (Character.isLetterOrDigit(text.charAt(pos)) || text.charAt(pos) == '_')) {
            pos++;
        }
        if (s == pos || !Character.isLetter(text.charAt(s))) {
            throw error("expected a setting name, found '" + peekWord() + "'");
        }
        return text.substring(s, pos);
    }

    private List<Item> list() {
        pos++; // '['
        List<Item> items = new ArrayList<>();
        while (true) {
            skipBlanks(true);
            if (pos >= text.length()) {
                throw error("list not closed with ']'");
            }
            if (text.charAt(pos) == ']') {
                pos++;
                return items;
            }
            items.add(scalar());
            skipBlanks(true);
            if (pos < text.length() && text.charAt(pos) == ',') {
                pos++;
            } else if (pos < text.length() && text.charAt(pos) != ']') {
                throw error("expected ',' or ']' in list, found '" + peekWord() + "'");
            }
        }
    }

    private Item scalar() {
        if (pos >= text.length()) {
            throw error("missing value");
        }
        char c = text.charAt(pos);
        if (c == '"' || c == '\'') {
            return quoted(c);
        }
        int s = pos;
        while (pos < text.length() && (Character.isLetterOrDigit(text.charAt(pos)) || text.charAt(pos) == '.')) {
            pos++;
        }
        String word = text.substring(s, pos);
        if (!word.matches("\\d+(\\.\\d+)?|0x[0-9a-fA-F]+")) {
            pos = s;
            throw error("expected a number, a \"string\" or a [list], found '" + peekWord() + "'");
        }
        return new Item(word, false, line);
    }

    private Item quoted(char quote) {
        int startLine = line;
        pos++;
        StringBuilder b = new StringBuilder();
        while (true) {
            if (pos >= text.length() || text.charAt(pos) == '\n') {
                throw new ConfigException(source, startLine, "string not closed with " + quote);
            }
            char c = text.charAt(pos++);
            if (c == quote) {
                return new Item(b.toString(), true, startLine);
            }
            if (c == '\\' && pos < text.length()) {
                char e = text.charAt(pos++);
                switch (e) {
                    case 'n' -> b.append('\n');
                    case 't' -> b.append('\t');
                    default -> b.append(e); // \\ \" \' and, as xl does, any other escaped character itself
                }
            } else {
                b.append(c);
            }
        }
    }

    private void endOfStatement() {
        skipBlanks(false);
        if (pos >= text.length()) {
            return;
        }
        char c = text.charAt(pos);
        if (c == ';' || c == '\n') {
            pos++;
            if (c == '\n') {
                line++;
            }
            return;
        }
        throw error("unexpected '" + peekWord() + "' after the value");
    }

    /** Skips spaces and comments; newlines too when {@code newlines}. */
    private void skipBlanks(boolean newlines) {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c == '#') {
                while (pos < text.length() && text.charAt(pos) != '\n') {
                    pos++;
                }
            } else if (c == '\n' && newlines) {
                line++;
                pos++;
            } else if (c == ' ' || c == '\t' || c == '\r' || (newlines && c == ';')) {
                pos++;
            } else {
                return;
            }
        }
    }

    private String peekWord() {
        int e = pos;
        while (e < text.length() && e - pos < 20 && !Character.isWhitespace(text.charAt(e))) {
            e++;
        }
        return e == pos ? (pos < text.length() ? "\\n" : "end of file") : text.substring(pos, e);
    }

    private ConfigException error(String reason) {
        return new ConfigException(source, line, reason);
    }
}
