/**
 * The backend-driver SPI. One generic xenbus core (watching {@code backend/<type>}, probing,
 * driving the backend state Initialising, InitWait, Connected, Closing, Closed, reconnecting)
 * calls a {@link io.backplane.api.backend.BackendDriver} per device type, as Linux's xenbus calls
 * netback's and blkback's {@code xenbus_driver}. A driver knows its device protocol; it never
 * names a ring strategy class.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.6.0")
package io.backplane.api.backend;
