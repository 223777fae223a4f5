package io.backplane.xenstore;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;

@ObjectClassDefinition(id = XenStoreComponent.PID, name = "Backplane XenStore",
        description = "Where the XenStore service comes from: the embedded store and its xenstored sockets, or an existing xenstored.")
public @interface XenStoreConfig {

    @AttributeDefinition(description = "embedded: run the store here and serve <state dir>/xenstored/socket; socket: use the xenstored at socket.path (e.g. a real dom0's)",
            options = {@Option(value = "embedded", label = "embedded"), @Option(value = "socket", label = "socket")})
    String mode() default "embedded";

    @AttributeDefinition(name = "socket.path", description = "xenstored socket used in socket mode")
    String socket_path() default "/var/run/xenstored/socket";

    @AttributeDefinition(name = "quota.nodes", description = "Nodes a guest domain may own (xenstored -E)")
    int quota_nodes() default 1000;

    @AttributeDefinition(name = "quota.entry.size", description = "Largest node record a guest may write, in bytes (xenstored -S)")
    int quota_entry_size() default 2048;

    @AttributeDefinition(name = "quota.watches", description = "Watches a guest domain may hold (xenstored -W)")
    int quota_watches() default 128;

    @AttributeDefinition(name = "quota.transactions", description = "Open transactions per guest connection (xenstored -t)")
    int quota_transactions() default 10;

    @AttributeDefinition(name = "quota.perms", description = "Permission entries per node a guest may set (xenstored -A)")
    int quota_perms() default 5;
}
