package io.backplane.toolstack;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A toolstack that follows another in the same runtime (an update of the toolstack bundle) takes
 * back the guest processes the first one started, from their records, and hears which died meanwhile.
 */
class GuestLauncherTest {
    @TempDir
    Path state;

    @Test
    void aSuccessorTakesBackTheRunningGuestsAndHearsOfTheDeadOnes() throws Exception {
        GuestLauncher first = new GuestLauncher("sleep 60", state);
        first.setStartTimeout(java.time.Duration.ofMillis(200)); // sleep never says it attached
        long alive = first.start(3, "kept", "/etc/kept.cfg");
        long gone = first.start(4, "gone", "");
        kill(gone);
        first.release(); // the first toolstack goes without stopping its guests

        List<int[]> exits = new CopyOnWriteArrayList<>();
        GuestLauncher next = new GuestLauncher("sleep 60", state, (domid, status) -> exits.add(new int[] {domid, status}));
        assertThat(next.adopt()).containsExactlyInAnyOrder(new GuestLauncher.Adopted(3, "kept", "/etc/kept.cfg", alive, true),
                new GuestLauncher.Adopted(4, "gone", "", gone, false));
        assertThat(state.resolve("guests/4.guest")).doesNotExist();
        assertThat(next.running(3)).isTrue();

        // A death on its own reaches the successor, with its status unknown.
        kill(alive);
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (exits.isEmpty() && System.nanoTime() < end) {
            Thread.sleep(20);
        }
        assertThat(exits).singleElement().satisfies(e -> assertThat(e).containsExactly(3, -1));
        next.stop(3);
        assertThat(state.resolve("guests/3.guest")).doesNotExist();
        try (var files = Files.list(state.resolve("guests"))) {
            assertThat(files.filter(f -> f.toString().endsWith(".guest"))).isEmpty();
        }
    }

    private static void kill(long pid) throws Exception {
        ProcessHandle p = ProcessHandle.of(pid).orElseThrow();
        p.destroyForcibly();
        p.onExit().get(10, TimeUnit.SECONDS);
    }
}
