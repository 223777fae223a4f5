package io.backplane.control.command;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Map;

import org.apache.felix.service.command.Descriptor;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.startlevel.BundleStartLevel;
import org.osgi.framework.startlevel.FrameworkStartLevel;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;

import io.backplane.control.ControlSocket;

/** The {@code bp:} scope: what is running in this Backplane and which commands it offers. */
@Component(service = BackplaneCommands.class, property = {
        "osgi.command.scope=bp",
        "osgi.command.function=help",
        "osgi.command.function=bundles",
        "osgi.command.function=status",
        "osgi.command.function=ready"})
public class BackplaneCommands {

    private final BundleContext context;
    private final ServiceComponentRuntime scr;
    private final ControlSocket control;

    @Activate
    public BackplaneCommands(BundleContext context, @Reference ServiceComponentRuntime scr, @Reference ControlSocket control) {
        this.context = context;
        this.scr = scr;
        this.control = control;
    }

    @Descriptor("list every shell command with its description")
    public String help() {
        StringBuilder out = new StringBuilder();
        Map<String, CommandCatalog.Command> commands = CommandCatalog.read(context);
        int width = commands.keySet().stream().mapToInt(String::length).max().orElse(0);
        for (CommandCatalog.Command command : commands.values()) {
            out.append(String.format("%-" + width + "s  %s%n", command.name(), command.description()));
        }
        out.append(commands.size()).append(" commands; bp:help COMMAND shows its parameters");
        return out.toString();
    }

    @Descriptor("show the parameters of one command")
    public String help(@Descriptor("command name, scope:function or just function") String name) {
        Map<String, CommandCatalog.Command> commands = CommandCatalog.read(context);
        CommandCatalog.Command command = commands.get(name);
        if (command == null) {
            command = commands.values().stream().filter(c -> c.name().endsWith(":" + name)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no command named " + name + "; bp:help lists them"));
        }
        StringBuilder out = new StringBuilder(command.name()).append(" - ").append(command.description());
        for (CommandCatalog.Usage usage : command.usages()) {
            out.append(String.format("%n%n  %s", command.name()));
            usage.parameters().forEach(p -> out.append(' ').append(p.substring(0, p.contains("  ") ? p.indexOf("  ") : p.length())));
            if (!usage.description().isEmpty()) {
                out.append(String.format("%n    %s", usage.description()));
            }
            usage.parameters().stream().filter(p -> p.contains("  "))
                    .forEach(p -> out.append(String.format("%n      %s", p)));
        }
        return out.toString();
    }

    @Descriptor("list the installed bundles with id, state, start level and version")
    public String bundles() {
        StringBuilder out = new StringBuilder(String.format("%4s  %-11s %5s  %-45s %s%n", "ID", "STATE", "LEVEL", "BUNDLE", "VERSION"));
        Arrays.stream(context.getBundles()).sorted(Comparator.comparingLong(Bundle::getBundleId)).forEach(b -> out.append(
                String.format("%4d  %-11s %5d  %-45s %s%n", b.getBundleId(), state(b), b.adapt(BundleStartLevel.class) == null ? 0
                        : b.adapt(BundleStartLevel.class).getStartLevel(), b.getSymbolicName(), b.getVersion())));
        return out.toString().stripTrailing();
    }

    @Descriptor("show the state directory, uptime, bundle and component counts, and what is not running")
    public String status() {
        Bundle[] bundles = context.getBundles();
        long active = Arrays.stream(bundles).filter(b -> b.getState() == Bundle.ACTIVE).count();
        Components components = components();
        String stateDir = context.getProperty("backplane.state.dir");
        return String.format("Backplane up %s%n"
                        + "state dir   %s%n"
                        + "control     %s (%d client%s)%n"
                        + "bundles     %d active of %d%n"
                        + "components  %d satisfied or active, %d waiting for configuration, %d not running%s",
                uptime(), stateDir, control.socket(), control.clientCount(), control.clientCount() == 1 ? "" : "s",
                active, bundles.length, components.running, components.waiting, components.notRunning,
                components.problems);
    }

    /**
     * Whether this instance finished starting: the framework reached the highest start level a
     * bundle has, and every enabled component is satisfied or active (so every command is
     * registered and every socket a component opens is open). {@code backplane run} asks this
     * before it tells systemd READY=1, {@code backplane shell --wait} before its command.
     */
    @Descriptor("succeed once every start level is reached and every component runs; else fail saying what is missing")
    public String ready() {
        int level = context.getBundle(0).adapt(FrameworkStartLevel.class).getStartLevel();
        int highest = Arrays.stream(context.getBundles()).map(b -> b.adapt(BundleStartLevel.class))
                .filter(java.util.Objects::nonNull).mapToInt(BundleStartLevel::getStartLevel).max().orElse(level);
        if (level < highest) {
            throw new IllegalStateException("not ready: start level " + level + " of " + highest);
        }
        Components components = components();
        if (components.waiting + components.notRunning > 0) {
            throw new IllegalStateException("not ready:" + components.problems);
        }
        return "ready: start level " + level + ", " + components.running + " components satisfied or active";
    }

    /** Component counts by state, and one line per component that is not running. */
    private record Components(int running, int waiting, int notRunning, String problems) {
    }

    private Components components() {
        int[] byState = new int[3];
        StringBuilder problems = new StringBuilder();
        for (ComponentDescriptionDTO description : scr.getComponentDescriptionDTOs()) {
            if (!scr.isComponentEnabled(description)) {
                continue;
            }
            var configurations = scr.getComponentConfigurationDTOs(description);
            if (configurations.isEmpty()) {
                byState[1]++; // waiting for a configuration (policy REQUIRE)
                problems.append(String.format("%n  waiting for configuration: %s (pid %s)", description.name,
                        String.join(", ", description.configurationPid)));
            }
            for (ComponentConfigurationDTO configuration : configurations) {
                if (configuration.state == ComponentConfigurationDTO.UNSATISFIED_REFERENCE
                        || configuration.state == ComponentConfigurationDTO.UNSATISFIED_CONFIGURATION
                        || configuration.state == ComponentConfigurationDTO.FAILED_ACTIVATION) {
                    byState[2]++;
                    problems.append(String.format("%n  not running: %s (%s)", description.name, reason(configuration)));
                } else {
                    byState[0]++;
                }
            }
        }
        return new Components(byState[0], byState[1], byState[2], problems.toString());
    }

    private static String reason(ComponentConfigurationDTO configuration) {
        if (configuration.state == ComponentConfigurationDTO.FAILED_ACTIVATION) {
            return "activation failed: " + configuration.failure.lines().findFirst().orElse("");
        }
        if (configuration.state == ComponentConfigurationDTO.UNSATISFIED_CONFIGURATION) {
            return "configuration missing";
        }
        StringBuilder missing = new StringBuilder("missing service");
        Arrays.stream(configuration.unsatisfiedReferences).forEach(r -> missing.append(' ').append(r.target == null ? r.name : r.name + " " + r.target));
        return missing.toString();
    }

    private static String uptime() {
        Duration up = Duration.ofMillis(ManagementFactory.getRuntimeMXBean().getUptime());
        return String.format("%dh %02dm %02ds", up.toHours(), up.toMinutesPart(), up.toSecondsPart());
    }

    private static String state(Bundle bundle) {
        return switch (bundle.getState()) {
            case Bundle.ACTIVE -> "ACTIVE";
            case Bundle.RESOLVED -> "RESOLVED";
            case Bundle.INSTALLED -> "INSTALLED";
            case Bundle.STARTING -> "STARTING";
            case Bundle.STOPPING -> "STOPPING";
            default -> "UNINSTALLED";
        };
    }
}
