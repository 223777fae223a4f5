/*
 * Prints what Backplane's xs_wire descriptors describe of Xen's xen/io/xs_wire.h as "name value"
 * lines: the xsd_sockmsg header, the XS_* message types, the limits and the shared page of
 * struct xenstore_domain_interface. Built by XsWireTest, which compares every line both ways.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <xen/io/xs_wire.h>

#define P(name, value) printf("%s %ld\n", name, (long)(value))
#define OFF(type, field) P(#type "." #field, offsetof(struct type, field))
#define SIZE(type) P("sizeof." #type, sizeof(struct type))
#define C(name) P(#name, name)

int main(void)
{
    OFF(xsd_sockmsg, type);
    OFF(xsd_sockmsg, req_id);
    OFF(xsd_sockmsg, tx_id);
    OFF(xsd_sockmsg, len);
    SIZE(xsd_sockmsg);

    C(XS_CONTROL);
    C(XS_DIRECTORY);
    C(XS_READ);
    C(XS_GET_PERMS);
    C(XS_WATCH);
    C(XS_UNWATCH);
    C(XS_TRANSACTION_START);
    C(XS_TRANSACTION_END);
    C(XS_INTRODUCE);
    C(XS_RELEASE);
    C(XS_GET_DOMAIN_PATH);
    C(XS_WRITE);
    C(XS_MKDIR);
    C(XS_RM);
    C(XS_SET_PERMS);
    C(XS_WATCH_EVENT);
    C(XS_ERROR);
    C(XS_IS_DOMAIN_INTRODUCED);
    C(XS_RESUME);
    C(XS_SET_TARGET);
    C(XS_RESET_WATCHES);
    C(XS_DIRECTORY_PART);
    C(XS_TYPE_COUNT);

    C(XENSTORE_PAYLOAD_MAX);
    C(XENSTORE_ABS_PATH_MAX);
    C(XENSTORE_REL_PATH_MAX);

    OFF(xenstore_domain_interface, req);
    OFF(xenstore_domain_interface, rsp);
    OFF(xenstore_domain_interface, req_cons);
    OFF(xenstore_domain_interface, req_prod);
    OFF(xenstore_domain_interface, rsp_cons);
    OFF(xenstore_domain_interface, rsp_prod);
    OFF(xenstore_domain_interface, server_features);
    OFF(xenstore_domain_interface, connection);
    OFF(xenstore_domain_interface, error);
    SIZE(xenstore_domain_interface);
    C(XENSTORE_RING_SIZE);
    C(XENSTORE_SERVER_FEATURE_RECONNECTION);
    C(XENSTORE_SERVER_FEATURE_ERROR);
    C(XENSTORE_CONNECTED);
    C(XENSTORE_RECONNECT);
    C(XENSTORE_ERROR_NONE);
    C(XENSTORE_ERROR_COMM);
    C(XENSTORE_ERROR_RINGIDX);
    C(XENSTORE_ERROR_PROTO);
    return 0;
}
