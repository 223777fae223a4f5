/**
 * The hand-over point between a XenStore bundle and its updated successor
 * ({@link io.backplane.xenstore.holder.XenStoreHolder}). Typed with the API and the JDK only, so
 * it never needs to change when the XenStore bundle does.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package io.backplane.xenstore.holder;
