package io.backplane.control;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.UndeclaredThrowableException;

/**
 * The one-line message an operator sees when a command fails. Commands report a failure by
 * throwing an exception whose message is the sentence to show; wrappers added by reflection are
 * peeled off and a stack trace is never printed.
 */
final class CommandFailure {

    private CommandFailure() {
    }

    static String message(Throwable failure) {
        Throwable t = unwrap(failure);
        String message = t.getMessage();
        if (message == null || message.isBlank()) {
            Throwable cause = t.getCause() != null && t.getCause() != t ? unwrap(t.getCause()) : null;
            message = cause != null && cause.getMessage() != null ? cause.getMessage() : t.getClass().getSimpleName();
        }
        return message.strip().replace("\r", "").replace('\n', ' ');
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof InvocationTargetException || t instanceof UndeclaredThrowableException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
