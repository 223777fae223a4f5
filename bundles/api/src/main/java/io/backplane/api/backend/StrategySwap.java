package io.backplane.api.backend;

/**
 * One ring moved to another ring strategy by {@link BackendDevice#swapStrategy}.
 *
 * @param ring        which ring, in the driver's words ({@code queue 0}, {@code queue 1 tx})
 * @param from        the strategy that served it before
 * @param to          the strategy serving it now
 * @param pauseMicros how long the ring's worker was held at its batch boundary for the swap
 */
public record StrategySwap(String ring, String from, String to, long pauseMicros) {

    /** {@code queue 0: grant-copy -> persistent (212 us)}, as {@code pv:strategy} prints it. */
    public String describe() {
        return ring + ": " + from + " -> " + to + " (" + pauseMicros + " us)";
    }
}
