package io.backplane.arch;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.backend.BlkifKeys;
import io.backplane.api.backend.NetifKeys;
import io.backplane.api.backend.XenbusKeys;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A xenbus key is named once, in the API's {@link XenbusKeys}, {@link NetifKeys} and
 * {@link BlkifKeys}: no main source file of the checkout spells one again as a string literal,
 * neither the key ({@code "feature-sg"}) nor a path's last part ({@code "/state"}). A key that is
 * one plain word ({@code state}, {@code mode}) is too common a word to look for alone, so only its
 * path form counts.
 */
class XenStoreKeyLiteralsTest {
    private static final List<Class<?>> OWNERS = List.of(XenbusKeys.class, NetifKeys.class, BlkifKeys.class);
    /** A string literal; escapes kept as written. */
    private static final Pattern LITERAL = Pattern.compile("\"((?:[^\"\\\\\\n]|\\\\.)*)\"");
    /** {@code /local/domain/N/backend} is a directory of that name, not the frontend's key. */
    private static final String DOMAIN_BACKEND_DIR = "/" + XenbusKeys.BACKEND;

    @Test
    void noMainSourceSpellsAXenbusKeyAgain() throws Exception {
        Map<String, String> literals = forbiddenLiterals();
        List<String> found = new ArrayList<>();
        for (Path file : mainSources()) {
            if (OWNERS.stream().anyMatch(c -> file.endsWith(c.getName().replace('.', '/') + ".java"))) {
                continue;
            }
            String[] lines = withoutComments(Files.readString(file)).split("\n", -1);
            for (int i = 0; i < lines.length; i++) {
                for (String literal : literalsIn(lines[i])) {
                    String owner = literals.get(literal);
                    if (owner != null) {
                        found.add(root().relativize(file) + ":" + (i + 1) + ": \"" + literal + "\" is " + owner);
                    }
                }
            }
        }
        assertThat(found).as("xenbus keys spelled again instead of named through the API").isEmpty();
    }

    @Test
    void theScanSeesALiteralKeyButNotAComment() {
        String code = withoutComments("""
                // "feature-sg" in a comment is prose
                String sg = be + "/feature-sg"; /* "/state" */ String s = fe + "/state";
                log("\\"quoted\\" /online");
                """);
        Map<String, String> forbidden = forbiddenLiterals();
        assertThat(literalsIn(code).stream().filter(forbidden::containsKey)).containsExactly("/feature-sg", "/state");
    }

    /** Each key's value and path form, with the constant that names it. */
    private static Map<String, String> forbiddenLiterals() {
        Map<String, String> out = new TreeMap<>();
        for (Class<?> c : OWNERS) {
            for (Field f : c.getFields()) {
                if (f.getType() != String.class) {
                    continue;
                }
                String key;
                try {
                    key = (String) f.get(null);
                } catch (IllegalAccessException e) {
                    throw new AssertionError(e);
                }
                String owner = c.getSimpleName() + "." + f.getName();
                if (key.contains("-") && !key.endsWith("-")) {
                    out.put(key, owner);
                }
                if (!key.endsWith("-") && !("/" + key).equals(DOMAIN_BACKEND_DIR)) {
                    out.put("/" + key, owner);
                }
            }
        }
        return out;
    }

    private static List<String> literalsIn(String line) {
        List<String> out = new ArrayList<>();
        Matcher m = LITERAL.matcher(line);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    /** The source with comments blanked (line breaks kept), string literals left as they are. */
    static String withoutComments(String src) {
        StringBuilder out = new StringBuilder(src.length());
        int i = 0;
        while (i < src.length()) {
            char c = src.charAt(i);
            if (c == '"' || c == '\'') {
                int end = i + 1;
                if (src.startsWith("\"\"\"", i)) {
                    end = src.indexOf("\"\"\"", i + 3);
                    end = end < 0 ? src.length() : end + 3;
                } else {
                    while (end < src.length() && src.charAt(end) != c && src.charAt(end) != '\n') {
                        end += src.charAt(end) == '\\' ? 2 : 1;
                    }
                    end = Math.min(end + 1, src.length());
                }
                out.append(src, i, end);
                i = end;
            } else if (src.startsWith("//", i)) {
                int end = src.indexOf('\n', i);
                i = end < 0 ? src.length() : end;
            } else if (src.startsWith("/*", i)) {
                int end = src.indexOf("*/", i + 2);
                end = end < 0 ? src.length() : end + 2;
                src.substring(i, end).chars().filter(ch -> ch == '\n').forEach(ch -> out.append('\n'));
                i = end;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    private static List<Path> mainSources() throws IOException {
        List<Path> out = new ArrayList<>();
        List<Path> roots = new ArrayList<>();
        try (Stream<Path> bundles = Files.list(root().resolve("bundles"))) {
            bundles.map(b -> b.resolve("src/main/java")).filter(Files::isDirectory).forEach(roots::add);
        }
        roots.add(root().resolve("runtime/src/main/java"));
        for (Path r : roots) {
            if (!Files.isDirectory(r)) {
                continue;
            }
            try (Stream<Path> files = Files.walk(r)) {
                files.filter(p -> p.toString().endsWith(".java")).forEach(out::add);
            }
        }
        assertThat(out).as("main sources under " + root()).isNotEmpty();
        return out;
    }

    /** The checkout: this module's parent (Maven runs tests in the module's directory). */
    private static Path root() {
        return Path.of("").toAbsolutePath().getParent();
    }
}
