/**
 * The shared-ring protocol of Xen's {@code ring.h} over a ByteBuffer: {@link io.backplane.ring.FrontRing}
 * and {@link io.backplane.ring.BackRing} with the same operations and the same memory ordering as
 * the C macros, so a Java side interoperates with a C side on the same shared page. Where the
 * indexes and slots lie is a {@link io.backplane.ring.RingLayout}; {@link io.backplane.ring.LegacyRingLayout}
 * is ring.h's own.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.1.0")
package io.backplane.ring;
