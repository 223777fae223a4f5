package io.backplane.netback;

/**
 * A frontend broke the protocol in a way Linux netback treats as malicious
 * (xenvif_fatal_tx_err): the vif is disabled. The message is netback's own.
 */
final class FrontendFault extends RuntimeException {
    private static final long serialVersionUID = 1L;

    FrontendFault(String message) {
        super(message, null, false, false);
    }
}
