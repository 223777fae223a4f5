package io.backplane.runtime.demo;

import java.io.PrintStream;

/** The demo's progress lines: one numbered line per step, indented detail under it, the time each took. */
final class Progress {

    private final PrintStream out;
    private final int steps;
    private final long begin = System.nanoTime();
    private int step;
    private String current = "";
    private long stepBegin;

    Progress(PrintStream out, int steps) {
        this.out = out;
        this.steps = steps;
    }

    void step(String what) {
        step++;
        current = what;
        stepBegin = System.nanoTime();
        out.printf("[%d/%d] %s%n", step, steps, what);
    }

    void detail(String text) {
        for (String line : text.split("\n", -1)) {
            out.println("      " + line);
        }
    }

    void done(String result) {
        out.printf("      %s (%.1f s)%n", result, seconds(stepBegin));
    }

    String current() {
        return current.isEmpty() ? "start" : "step " + step + " (" + current + ")";
    }

    double elapsed() {
        return seconds(begin);
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }
}
