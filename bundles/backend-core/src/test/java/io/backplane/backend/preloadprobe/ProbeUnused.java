package io.backplane.backend.preloadprobe;

/** A class of the probe bundle that no code names: only a preload of the whole bundle loads it. */
public final class ProbeUnused {
    private ProbeUnused() {
    }
}
