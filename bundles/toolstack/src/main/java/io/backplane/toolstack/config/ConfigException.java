package io.backplane.toolstack.config;

/**
 * A config the toolstack refuses. The message is what the operator sees:
 * {@code demo.cfg:4: vif 0: queues '0' is not a number from 1 to 65535}.
 */
public class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String source, int line, String reason) {
        super(source + (line > 0 ? ":" + line : "") + ": " + reason);
    }

    public ConfigException(String reason) {
        super(reason);
    }
}
