package io.backplane.api.device;

/** What the policy did with one feature request. */
public enum RequestStatus {
    /** Published as asked. */
    ACCEPTED,
    /** Published, but with a value the policy limited (the reason says which limit). */
    CLAMPED,
    /** Not used: unknown feature, bad value or forbidden; the device keeps its default. */
    REJECTED;

    /** The lower-case word written in XenStore ({@code accepted}, {@code clamped}, {@code rejected}). */
    public String word() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
