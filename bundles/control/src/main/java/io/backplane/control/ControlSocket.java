package io.backplane.control;

import java.io.IOException;
import java.nio.file.Path;

import org.apache.felix.service.command.CommandProcessor;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;

import io.backplane.control.client.ControlClient;

/**
 * Publishes the Gogo shell on {@code <state dir>/control.sock} for {@code ./backplane shell}.
 * Registered as a service so other components (bp:status) can report on it.
 */
@Component(service = ControlSocket.class, immediate = true)
public class ControlSocket {

    static final String STATE_DIR_PROPERTY = "backplane.state.dir";

    private final Logger log;
    private final ControlServer server;

    @Activate
    public ControlSocket(@Reference(service = LoggerFactory.class) Logger log, @Reference CommandProcessor processor,
                         BundleContext context) throws IOException {
        this.log = log;
        String stateDir = context.getProperty(STATE_DIR_PROPERTY);
        if (stateDir == null || stateDir.isBlank()) {
            throw new IllegalStateException("framework property " + STATE_DIR_PROPERTY + " is not set; the launcher sets it");
        }
        server = new ControlServer(ControlClient.socketIn(Path.of(stateDir)), processor, log);
        log.info("control socket listening on {} (backplane shell --state-dir {})", server.socket(), stateDir);
    }

    @Deactivate
    void deactivate() throws IOException {
        server.close();
        log.info("control socket {} closed and removed", server.socket());
    }

    public Path socket() {
        return server.socket();
    }

    public int clientCount() {
        return server.clientCount();
    }
}
