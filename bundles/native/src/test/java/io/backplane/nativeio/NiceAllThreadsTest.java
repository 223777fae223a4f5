package io.backplane.nativeio;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * {@link NativeIo#niceAllThreads} in a child JVM (a nice value raised cannot be lowered again
 * without CAP_SYS_NICE, so never in the test's own): every thread of the child, as /proc reads
 * it back, runs at the new nice, and so does one it starts afterwards; the test's own threads
 * are untouched.
 */
class NiceAllThreadsTest {

    /** The child: sets every thread's nice, starts one more thread, says so and waits for stdin's end. */
    public static void main(String[] args) throws Exception {
        int set = new NativeIo().niceAllThreads(Integer.parseInt(args[0]));
        Thread later = new Thread(() -> {
            try {
                System.in.read();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }, "started-after");
        later.start();
        System.out.println("set " + set);
        System.out.flush();
        later.join();
    }

    @Test
    void everyThreadOfTheProcessGetsTheNiceAndThreadsStartedLaterInheritIt() throws Exception {
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx32m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                NiceAllThreadsTest.class.getName(), "19").redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            String said = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8)).readLine();
            assertThat(said).as("the child's report").startsWith("set ");
            int set = Integer.parseInt(said.substring(4));

            Map<Integer, Integer> nices = niceByThread(child.pid());
            // A JVM runs a dozen threads or more (GC, compiler, signal dispatcher...), not just main.
            assertThat(set).isGreaterThan(5);
            assertThat(nices.size()).isGreaterThanOrEqualTo(set);
            assertThat(nices).as("nice of each of the child's threads").allSatisfy((tid, nice) -> assertThat(nice).isEqualTo(19));
            assertThat(niceByThread(ProcessHandle.current().pid())).as("the test's own threads").allSatisfy(
                    (tid, nice) -> assertThat(nice).isNotEqualTo(19));
        } finally {
            child.getOutputStream().close();
            if (!child.waitFor(30, TimeUnit.SECONDS)) {
                child.destroyForcibly();
            }
        }
        assertThat(child.exitValue()).isZero();
    }

    /** Field 19 of /proc/PID/task/TID/stat for each thread (read after the command's closing parenthesis). */
    private static Map<Integer, Integer> niceByThread(long pid) throws IOException {
        Map<Integer, Integer> nices = new TreeMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path task : tasks.toList()) {
                String stat;
                try {
                    stat = Files.readString(task.resolve("stat"));
                } catch (IOException ended) {
                    continue;
                }
                String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                nices.put(Integer.valueOf(task.getFileName().toString()), Integer.valueOf(fields[19 - 3]));
            }
        }
        return nices;
    }
}
