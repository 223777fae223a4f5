package io.backplane.control.client;

import java.io.IOException;
import java.nio.file.Path;

import org.jline.terminal.Terminal;

/** Lets tests outside this package drive the package-private console. */
public final class ConsoleAccess {

    private ConsoleAccess() {
    }

    public static int run(ControlClient client, Path socket, Terminal terminal, Path history) throws IOException {
        return Console.run(client, socket, terminal, history);
    }
}
