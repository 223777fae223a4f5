/**
 * The project's own native API: libc through an embedded jnr-ffi. This bundle is the only one
 * that carries jnr-ffi; everyone else uses {@link io.backplane.nativeio.NativeIo}.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.3.0")
package io.backplane.nativeio;
