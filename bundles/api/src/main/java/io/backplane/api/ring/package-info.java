/**
 * The ring-strategy SPI. A strategy knows rings, grants and layouts, never netback or blkback:
 * given what a backend negotiated for one shared ring ({@link io.backplane.api.ring.RingRequest}),
 * it maps the ring, says where its indexes and slots are ({@link io.backplane.api.ring.RingGeometry})
 * and moves request data in and out of the guest's granted pages
 * ({@link io.backplane.api.ring.SegmentIo}) by copy, by mapping, by persistent mapping or without
 * copying at all. Backends ask the {@link io.backplane.api.ring.RingStrategies} registry for the
 * best registered strategy, so a new strategy bundle serves devices without a line changing
 * elsewhere.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.2.0")
package io.backplane.api.ring;
