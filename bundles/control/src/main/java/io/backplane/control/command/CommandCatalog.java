package io.backplane.control.command;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Parameter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.Descriptor;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;

/**
 * Every Gogo command registered in the framework, read the way Gogo itself finds them: services
 * with {@code osgi.command.scope} and {@code osgi.command.function}, and their public methods of
 * that name (or getName / setName / isName), described by {@link Descriptor}.
 */
final class CommandCatalog {

    /** One overload of a command. */
    record Usage(String description, List<String> parameters) {
    }

    /** A command, {@code scope:function}, with its overloads, fewest parameters first. */
    record Command(String name, List<Usage> usages) {
        Command {
            usages = usages.stream().sorted(java.util.Comparator.comparingInt(u -> u.parameters().size())).toList();
        }

        /** The description of the simplest form, which describes the command as a whole. */
        String description() {
            return usages.stream().map(Usage::description).filter(d -> !d.isEmpty()).findFirst().orElse("(no description)");
        }
    }

    private CommandCatalog() {
    }

    static Map<String, Command> read(BundleContext context) {
        Properties foreign = foreignDescriptions();
        Map<String, Command> commands = new TreeMap<>();
        ServiceReference<?>[] refs;
        try {
            refs = context.getServiceReferences((String) null,
                    "(&(" + CommandProcessor.COMMAND_SCOPE + "=*)(" + CommandProcessor.COMMAND_FUNCTION + "=*))");
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
        for (ServiceReference<?> ref : refs == null ? new ServiceReference<?>[0] : refs) {
            Object service = context.getService(ref);
            if (service == null) {
                continue;
            }
            try {
                String scope = String.valueOf(ref.getProperty(CommandProcessor.COMMAND_SCOPE));
                for (String function : functions(ref.getProperty(CommandProcessor.COMMAND_FUNCTION))) {
                    List<Usage> usages = usages(service.getClass(), function,
                            foreign.getProperty(scope + ":" + function, ""));
                    commands.merge(scope + ":" + function, new Command(scope + ":" + function, usages),
                            (a, b) -> new Command(a.name(), concat(a.usages(), b.usages())));
                }
            } finally {
                context.ungetService(ref);
            }
        }
        return commands;
    }

    private static List<String> functions(Object property) {
        if (property instanceof String[] names) {
            return List.of(names);
        }
        if (property instanceof Iterable<?> names) {
            List<String> list = new ArrayList<>();
            names.forEach(n -> list.add(String.valueOf(n)));
            return list;
        }
        return List.of(String.valueOf(property));
    }

    /** Felix's own commands carry no {@link Descriptor}; their descriptions ship with this bundle. */
    private static Properties foreignDescriptions() {
        Properties descriptions = new Properties();
        try (InputStream in = CommandCatalog.class.getResourceAsStream("foreign-commands.properties")) {
            if (in != null) {
                descriptions.load(in);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return descriptions;
    }

    private static List<Usage> usages(Class<?> type, String function, String fallbackDescription) {
        List<Usage> usages = new ArrayList<>();
        String lower = function.toLowerCase(Locale.ROOT);
        for (Method method : type.getMethods()) {
            String name = method.getName().toLowerCase(Locale.ROOT);
            boolean matches = name.equals(lower) || name.equals("get" + lower) || name.equals("set" + lower)
                    || name.equals("is" + lower) || name.equals("_" + lower);
            if (!matches || Modifier.isStatic(method.getModifiers()) || method.getDeclaringClass() == Object.class) {
                continue;
            }
            Descriptor descriptor = method.getAnnotation(Descriptor.class);
            List<String> parameters = new ArrayList<>();
            for (Parameter parameter : method.getParameters()) {
                if (parameter.getType().getName().equals("org.apache.felix.service.command.CommandSession")
                        || parameter.getType() == AutoCloseable.class) {
                    continue; // Gogo passes the session itself (the launcher's commands see it as AutoCloseable)
                }
                parameters.add(parameter(parameter));
            }
            usages.add(new Usage(descriptor == null ? fallbackDescription : descriptor.value(), parameters));
        }
        return usages;
    }

    private static String parameter(Parameter parameter) {
        Descriptor descriptor = parameter.getAnnotation(Descriptor.class);
        org.apache.felix.service.command.Parameter option =
                parameter.getAnnotation(org.apache.felix.service.command.Parameter.class);
        // Parameter names exist only in classes compiled with -parameters; the type is the fallback.
        String type = parameter.isNamePresent() ? parameter.getName() : parameter.getType().getSimpleName();
        String text = option != null ? String.join("|", option.names()) + " (" + type + ")" : "<" + type + ">";
        return descriptor == null ? text : text + "  " + descriptor.value();
    }

    private static <T> List<T> concat(List<T> a, List<T> b) {
        List<T> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
