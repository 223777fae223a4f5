package io.backplane.blkback;

import io.backplane.api.backend.BackendContext;
import io.backplane.api.backend.BackendDevice;
import io.backplane.api.backend.BackendDriver;
import io.backplane.api.backend.BlkifKeys;
import io.backplane.api.backend.DeviceException;
import io.backplane.api.backend.PreparedAdoption;
import io.backplane.api.device.DeviceCapabilities;
import io.backplane.api.hypervisor.EventChannels;
import io.backplane.api.ring.RingStrategies;
import io.backplane.nativeio.NativeIo;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * The {@code vbd} backend (Linux xen-blkback): probes a device by opening the raw image named by
 * the toolstack's {@code params} key with the access of its {@code mode} key. The offer
 * ({@code max-ring-page-order}, {@code multi-queue-max-queues}, {@code feature-*}) is the
 * negotiation policy's; this driver holds the frontend to it.
 */
@Component(service = BackendDriver.class, property = BackendDriver.DEVICE_TYPE + "=" + BlkbackDriver.TYPE)
public final class BlkbackDriver implements BackendDriver {

    /** The device type blkback serves (the backend directory's {@code backend/vbd/...}). */
    public static final String TYPE = "vbd";

    private final NativeIo io;
    private final RingStrategies strategies;
    private final EventChannels eventChannels;

    /**
     * The capabilities reference only orders activation: the driver registers after this bundle's
     * {@link VbdCapabilities}, so after an update of the bundle no device is probed before the
     * policy knows what a vbd can offer.
     */
    @Activate
    public BlkbackDriver(@Reference NativeIo io, @Reference RingStrategies strategies,
                         @Reference EventChannels eventChannels,
                         @Reference(target = "(" + DeviceCapabilities.DEVICE_TYPE + "=" + TYPE + ")") DeviceCapabilities capabilities) {
        this(io, strategies, eventChannels);
    }

    public BlkbackDriver(NativeIo io, RingStrategies strategies, EventChannels eventChannels) {
        this.io = io;
        this.strategies = strategies;
        this.eventChannels = eventChannels;
    }

    @Override
    public String deviceType() {
        return TYPE;
    }

    @Override
    public BackendDevice probe(BackendContext context) {
        String be = context.id().backendPath();
        // The toolstack's keys in one round trip (a re-attach's probe is part of the guest's pause).
        List<Optional<String>> keys = context.backendKeys(List.of(BlkifKeys.PARAMS, BlkifKeys.MODE, BlkifKeys.DEVICE_TYPE,
                BlkifKeys.REMOVABLE, BlkifKeys.DISCARD_ENABLE));
        String params = keys.get(0).filter(p -> !p.isBlank())
                .orElseThrow(() -> new DeviceException("reading " + be + "/params: the disk image is not named"));
        String mode = keys.get(1).orElse("w");
        if (!mode.equals("r") && !mode.equals("w")) {
            throw new DeviceException("bad " + be + "/mode '" + mode + "': r or w");
        }
        boolean readonly = mode.equals("r");
        boolean cdrom = keys.get(2).map("cdrom"::equals).orElse(false);
        boolean removable = keys.get(3).map("1"::equals).orElse(false);
        boolean discardEnabled = keys.get(4).map(v -> !v.equals("0")).orElse(true);

        VbdImage image = VbdImage.open(io, Path.of(params), !readonly);
        context.log("probed: " + image.path() + ", " + image.sectors() + " sectors, "
                + (readonly ? "read-only" : "read-write"));
        return new VbdDevice(context, image, discardEnabled, VbdDevice.info(readonly, cdrom, removable), strategies, eventChannels);
    }

    @Override
    public void rehearseAdoption(BackendContext context, Map<String, String> recorded) {
        VbdDevice.rehearse(context, recorded, strategies, io, context.stateDirectory());
    }

    @Override
    public PreparedAdoption prepareAdoption(BackendContext context, Map<String, String> recorded, Optional<Path> ownerFiles) {
        return VbdDevice.prepare(context, recorded, strategies, ownerFiles);
    }
}
