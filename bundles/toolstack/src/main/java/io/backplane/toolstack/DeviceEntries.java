package io.backplane.toolstack;

import io.backplane.api.device.DeviceId;

import java.util.Map;

/**
 * What libxl writes for one device, before the generic add (libxl__device_generic_add):
 * frontend keys (guest-writable), frontend keys the guest may only read ({@code mtu}),
 * backend keys, and the feature requests only the toolstack and the backend may see.
 * Maps keep libxl's order so the store sees the same sequence of writes.
 */
record DeviceEntries(DeviceId device, Map<String, String> frontend, Map<String, String> frontendReadOnly,
                     Map<String, String> backend, Map<String, String> requests) {
}
