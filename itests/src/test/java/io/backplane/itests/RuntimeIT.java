package io.backplane.itests;

import static org.hamcrest.CoreMatchers.containsString;
import static org.hamcrest.CoreMatchers.not;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThat;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import javax.inject.Inject;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;

import io.backplane.control.client.ControlClient;

/** The runtime's bundles in Felix: all active, components up, shell reachable, log written. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class RuntimeIT extends RuntimeTestBase {
    @Inject
    private ServiceComponentRuntime scr;
    @Inject
    private CommandProcessor processor;
    @Inject
    private LoggerFactory loggers;

    @Test
    public void everyBundleOfTheFeaturesIsActive() {
        List<String> inactive = new ArrayList<>();
        for (Bundle bundle : context.getBundles()) {
            if (bundle.getState() != Bundle.ACTIVE && bundle.getHeaders().get("Fragment-Host") == null) {
                inactive.add(bundle.getSymbolicName() + " (state " + bundle.getState() + ")");
            }
        }
        assertEquals("bundles not active", List.of(), inactive);
    }

    @Test
    public void everyBackplaneComponentIsSatisfiedAndTheRuntimeOnesAreActive() {
        List<String> notRunning = new ArrayList<>();
        List<String> active = new ArrayList<>();
        for (ComponentDescriptionDTO description : scr.getComponentDescriptionDTOs()) {
            if (!description.bundle.symbolicName.startsWith("backplane-")) {
                continue;
            }
            for (ComponentConfigurationDTO configuration : scr.getComponentConfigurationDTOs(description)) {
                if (configuration.state == ComponentConfigurationDTO.ACTIVE) {
                    active.add(description.name);
                } else if (configuration.state != ComponentConfigurationDTO.SATISFIED) {
                    notRunning.add(description.name + " state " + configuration.state
                            + (configuration.failure != null ? ": " + configuration.failure.lines().findFirst().orElse("") : "")
                            + (configuration.unsatisfiedReferences.length > 0
                                    ? " (missing " + configuration.unsatisfiedReferences[0].name + ")" : ""));
                }
            }
        }
        assertEquals("Backplane components neither active nor satisfied", List.of(), notRunning);
        // Immediate components; command components are delayed and may still be just satisfied.
        for (String component : new String[] {"io.backplane.logging.OperatorLogFile", "io.backplane.control.ControlSocket",
                "io.backplane.xenstore.XenStoreComponent"}) {
            assertTrue(component + " active (active: " + active + ")", active.contains(component));
        }
    }

    @Test
    public void theControlSocketRunsCommandsAndReportsFailures() throws IOException {
        Path socket = ControlClient.socketIn(stateDir());
        assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(socket));
        try (ControlClient client = ControlClient.connect(socket)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            assertEquals(0, client.run("bp:help", out, err));
            String help = out.toString(StandardCharsets.UTF_8);
            for (String command : new String[] {"bp:help", "bp:bundles", "bp:status", "felix:lb", "scr:list"}) {
                assertThat(help, containsString(command));
            }
            assertThat(help, containsString("list every shell command with its description"));
            // Felix's own commands have no @Descriptor: the control bundle describes them.
            for (String line : help.split("\n")) {
                if (line.startsWith("cm:") || line.startsWith("gogo:") || line.startsWith("felix:") || line.startsWith("scr:")) {
                    assertThat(line, not(containsString("(no description)")));
                }
            }
            assertThat(help, containsString("cm:getConfiguration"));

            ByteArrayOutputStream failure = new ByteArrayOutputStream();
            assertEquals(1, client.run("bp:help no-such-command", new ByteArrayOutputStream(), failure));
            assertEquals("no command named no-such-command; bp:help lists them\n", failure.toString(StandardCharsets.UTF_8));
        }
    }

    @Test
    public void gogoCommandsRunThroughTheCommandProcessor() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (CommandSession session = processor.createSession(System.in, out, out)) {
            Object bundles = session.execute("bp:bundles");
            assertThat(String.valueOf(bundles), containsString("backplane-control"));
            Object status = session.execute("bp:status");
            assertThat(String.valueOf(status), containsString("state dir   " + stateDir()));
            assertThat(String.valueOf(status), containsString(" 0 not running"));
        }
    }

    @Test
    public void logEntriesReachTheStateDirLogAsOneLine() throws Exception {
        String marker = "vif 7/0 test entry " + UUID.randomUUID();
        Logger log = loggers.getLogger("io.backplane.itests.Marker");
        log.warn(marker);
        Path file = stateDir().resolve("backplane.log");
        long deadline = System.currentTimeMillis() + 10_000;
        while (System.currentTimeMillis() < deadline) {
            if (Files.exists(file)) {
                String line = Files.readAllLines(file).stream().filter(l -> l.endsWith(marker)).findFirst().orElse(null);
                if (line != null) {
                    assertThat(line, containsString(" WARN  "));
                    assertThat(line, containsString(" Marker: "));
                    assertThat(line, not(containsString("\n")));
                    return;
                }
            }
            Thread.sleep(50);
        }
        fail("no line ending with '" + marker + "' in " + file);
    }
}
