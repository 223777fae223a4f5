package io.backplane.logging;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;

@ObjectClassDefinition(name = "Backplane logging",
        description = "Where and how much of the OSGi log Backplane writes for operators.")
@interface LoggingConfig {

    @AttributeDefinition(name = "Log file", description = "File name inside the state directory (framework property backplane.state.dir).")
    String file_name() default "backplane.log";

    @AttributeDefinition(name = "Log file size", description = "Size at which the log file is rotated "
            + "(backplane.log becomes backplane.log.1, and so on): 10MB, 512KB, or bytes.")
    String file_max_size() default "10MB";

    @AttributeDefinition(name = "Rotated files", description = "How many rotated files are kept "
            + "(backplane.log.1 to backplane.log.N, 1 to 20); the oldest beyond them is deleted.")
    int file_count() default 5;

    @AttributeDefinition(name = "File level", description = "Least severe level written to the log file.",
            options = {@Option(value = "TRACE"), @Option(value = "DEBUG"), @Option(value = "INFO"),
                    @Option(value = "WARN"), @Option(value = "ERROR")})
    String file_level() default "INFO";

    @AttributeDefinition(name = "Console level", description = "Least severe level printed on the console.",
            options = {@Option(value = "TRACE"), @Option(value = "DEBUG"), @Option(value = "INFO"),
                    @Option(value = "WARN"), @Option(value = "ERROR"), @Option(value = "AUDIT", label = "off")})
    String console_level() default "INFO";

    @AttributeDefinition(name = "Framework events", description = "Also write the framework's bundle and service events below WARN.")
    boolean framework_events() default false;
}
