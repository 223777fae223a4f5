/**
 * The control socket's wire protocol and its client: how {@code ./backplane shell}, tests and
 * tools run Gogo command lines in a running Backplane through {@code <state dir>/control.sock}.
 * Plain Java 17, no OSGi classes, so the client also runs outside the framework.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package io.backplane.control.client;
