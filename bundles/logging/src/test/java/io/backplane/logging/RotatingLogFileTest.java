package io.backplane.logging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The log file on a real file system, rotated by logback: bounded in files and size, no line lost among those kept. */
class RotatingLogFileTest {

    @TempDir
    Path dir;

    @Test
    void rotatesBySizeAndKeepsABoundedNumberOfFiles() throws Exception {
        Path file = dir.resolve("backplane.log");
        List<String> problems = new ArrayList<>();
        String line = "x".repeat(99) + "\n"; // 100 bytes
        try (RotatingLogFile log = new RotatingLogFile(file, "1KB", 3, problems::add)) {
            for (int i = 0; i < 100; i++) { // 10 KB: the files cannot hold it all
                log.write(String.format("%04d", i) + line.substring(4));
            }
        }
        assertThat(problems).isEmpty();
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString()).sorted())
                    .containsExactly("backplane.log", "backplane.log.1", "backplane.log.2", "backplane.log.3");
        }
        for (String name : List.of("backplane.log.1", "backplane.log.2", "backplane.log.3")) {
            // rotated once past 1 KB: at most one entry over
            assertThat(Files.size(dir.resolve(name))).as(name).isBetween(1024L, 1024L + 100);
        }
        // Newest in backplane.log, older ones in .1, .2, .3, in order with no gap.
        List<String> kept = new ArrayList<>();
        for (String name : List.of("backplane.log.3", "backplane.log.2", "backplane.log.1", "backplane.log")) {
            kept.addAll(Files.readAllLines(dir.resolve(name)));
        }
        assertThat(kept.get(kept.size() - 1)).startsWith("0099");
        for (int i = 1; i < kept.size(); i++) {
            assertThat(Integer.parseInt(kept.get(i).substring(0, 4))).isEqualTo(Integer.parseInt(kept.get(i - 1).substring(0, 4)) + 1);
        }
    }

    @Test
    void aBadSizeOrCountIsRefusedWithTheSetting() {
        assertThatThrownBy(() -> new RotatingLogFile(dir.resolve("a.log"), "lots", 3, p -> { }))
                .hasMessage("file.max.size 'lots' is not a size such as 10MB, 512KB or 1048576");
        assertThatThrownBy(() -> new RotatingLogFile(dir.resolve("a.log"), "1MB", 0, p -> { }))
                .hasMessage("file.count must be from 1 to 20, not 0");
    }
}
