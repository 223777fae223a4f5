package io.backplane.api.device;

/** How a feature's value is written in XenStore and validated. */
public enum FeatureType {
    /** {@code 0} or {@code 1} (requests also accept on/off, true/false, yes/no). */
    BOOL,
    /** A decimal integer between the descriptor's min and max. */
    RANGE,
    /** One of the descriptor's allowed values. */
    ENUM
}
