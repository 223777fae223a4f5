package io.backplane.api.backend;

/**
 * What a standby prepared for adopting a device that a live process still serves
 * ({@link BackendDriver#prepareAdoption}): typically the device's rings and grants mapped beside
 * the owner's (Xen lets two processes of dom0 map the same grant), so that the adoption after
 * the owner goes need not map them. The core keeps it while the device is left to its owner and
 * either hands it to the adopting device ({@link BackendDevice#adopt(java.util.Map, PreparedAdoption)})
 * or closes it: when the device or its record changes, another standby adopts it, or the bus
 * stops. Closing releases everything it holds; it is idempotent and never throws.
 */
public interface PreparedAdoption extends AutoCloseable {

    @Override
    void close();
}
