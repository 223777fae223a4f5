package io.backplane.nativeio;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The errno table against the C library's {@code <errno.h>}, compiled by gcc, both ways. */
class ErrnoTest {
    @TempDir
    Path dir;

    @Test
    void everyErrnoMatchesErrnoH() throws Exception {
        List<String> names = new ArrayList<>();
        for (Field f : Errno.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == int.class) {
                names.add(f.getName());
            }
        }
        StringBuilder c = new StringBuilder("#include <errno.h>\n#include <stdio.h>\nint main(void) {\n");
        names.forEach(n -> c.append("  printf(\"%s %d\\n\", \"").append(n).append("\", ").append(n).append(");\n"));
        c.append("  return 0;\n}\n");
        Path source = Files.writeString(dir.resolve("errnos.c"), c);
        Path program = dir.resolve("errnos");
        run("gcc", "-Wall", "-Werror", "-o", program.toString(), source.toString());

        StringBuilder fromJava = new StringBuilder();
        for (String n : names) {
            int value = Errno.class.getField(n).getInt(null);
            fromJava.append(n).append(' ').append(value).append('\n');
            assertThat(Errno.name(value)).as("name of " + value).isEqualTo(n);
            assertThat(Errno.number(n)).as("number of " + n).isEqualTo(value);
        }
        assertThat(run(program.toString())).isEqualTo(fromJava.toString());
        assertThat(Errno.name(200)).isEqualTo("errno 200");
        assertThat(Errno.name(-1)).isEqualTo("errno -1");
        assertThat(Errno.number("EWHATEVER")).isEqualTo(Errno.EIO);
    }

    private static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as(String.join(" ", cmd)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + ":\n" + out).isZero();
        return out;
    }
}
