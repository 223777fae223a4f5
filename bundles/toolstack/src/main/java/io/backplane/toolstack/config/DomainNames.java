package io.backplane.toolstack.config;

/** What xl accepts as a domain name, kept so that a name can never be mistaken for a domain id. */
public final class DomainNames {

    private DomainNames() {
    }

    public static String check(String source, String name) {
        if (name.isEmpty() || name.length() > 64 || !name.matches("[A-Za-z0-9_.-]+") || name.matches("\\d+")) {
            throw new ConfigException(source, 0, "domain name '" + name
                    + "' must be 1-64 letters, digits, '.', '-' or '_', and not only digits");
        }
        return name;
    }
}
