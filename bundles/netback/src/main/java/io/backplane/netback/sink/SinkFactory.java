package io.backplane.netback.sink;

import io.backplane.api.log.OperatorLog;
import io.backplane.api.sink.PacketSink;
import io.backplane.api.sink.PacketSinkFactory;
import io.backplane.api.sink.SinkException;
import io.backplane.api.sink.SinkRequest;
import io.backplane.nativeio.NativeException;
import io.backplane.nativeio.NativeIo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Opens vif sinks: a TAP device through /dev/net/tun when permitted (loading the tun module
 * first when the device is missing), otherwise (mode {@code auto}) the in-memory sink, with a
 * warning naming the interface and the reason. Mode {@code tap} (what a real dom0 runs) fails
 * the device instead.
 */
@Component(service = PacketSinkFactory.class, configurationPid = SinkFactory.PID)
@Designate(ocd = SinkFactory.Config.class)
public final class SinkFactory implements PacketSinkFactory {
    public static final String PID = "io.backplane.netback.sink";
    private static final Path TUN = Path.of("/dev/net/tun");

    @ObjectClassDefinition(name = "Backplane vif sinks", description = "Where vif frames go on the host.")
    public @interface Config {
        @AttributeDefinition(name = "Mode", description = "auto: TAP, else in-memory; tap: TAP or fail; memory: in-memory only.")
        String mode() default "auto";

        @AttributeDefinition(name = "In-memory loopback", description = "The in-memory sink returns the guest's frames to it.")
        boolean memory_loopback() default true;

        @AttributeDefinition(name = "Persistent TAP", description = "TAP devices are made persistent (TUNSETPERSIST): "
                + "a restarted Backplane, a standby or an updated netback attaches to the same interface with its addresses "
                + "and bridge port; the interface goes when its vif really closes. For keepDevices (xen mode).")
        boolean tap_persistent() default false;
    }

    private final NativeIo io;
    /** Where new vifs' frames go; a change applies to vifs probed from then on (open reads it once). */
    private record Choice(String mode, boolean loopback, boolean persistent) {
        Choice {
            if (!mode.equals("auto") && !mode.equals("tap") && !mode.equals("memory")) {
                throw new IllegalArgumentException("sink mode '" + mode + "' is not auto, tap or memory");
            }
        }
    }

    private volatile Choice choice;
    private final OperatorLog log;

    /**
     * The native bundle's {@link NativeIo} service, not one of its own: a new instance loads libc
     * (generated bindings, seconds under emulation), which would sit between a netback update's
     * hand-over and the new revision's adoption.
     */
    @Activate
    public SinkFactory(@Reference(name = "log", service = LoggerFactory.class) Logger log, @Reference(name = "io") NativeIo io,
                       Config config) {
        this(io, config.mode(), config.memory_loopback(), config.tap_persistent(), OperatorLog.of(log::info, log::warn, log::error));
    }

    public SinkFactory(NativeIo io, String mode, boolean loopback, OperatorLog log) {
        this(io, mode, loopback, false, log);
    }

    /** @param persistent TAP devices made persistent ({@link Config#tap_persistent}) */
    public SinkFactory(NativeIo io, String mode, boolean loopback, boolean persistent, OperatorLog log) {
        this.choice = new Choice(mode, loopback, persistent);
        this.io = io;
        this.log = log;
    }

    /** In place: vifs already open keep their sink (re-activating would close every vif). */
    @Modified
    void modified(Config config) {
        choice = new Choice(config.mode(), config.memory_loopback(), config.tap_persistent());
    }

    /**
     * Loads the tun module when /dev/net/tun is missing (a dom0 kernel with CONFIG_TUN=m and no
     * one having used it yet); empty when the device is there, else why it is not.
     */
    private String ensureTunDevice() {
        if (Files.exists(TUN)) {
            return "";
        }
        String why;
        try {
            Process p = new ProcessBuilder("modprobe", "tun").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                why = "modprobe tun did not finish in 10 s";
            } else {
                why = p.exitValue() == 0 ? "" : "modprobe tun failed: " + (out.isEmpty() ? "exit " + p.exitValue() : out);
            }
        } catch (IOException e) {
            why = "modprobe not found (" + e.getMessage() + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            why = "interrupted";
        }
        if (Files.exists(TUN)) {
            return "";
        }
        return TUN + " is missing and the tun module could not be loaded: "
                + (why.isEmpty() ? "modprobe tun made no device" : why) + " (a kernel with CONFIG_TUN is needed)";
    }

    @Override
    public PacketSink open(SinkRequest request) {
        Choice c = choice;
        String mode = c.mode();
        boolean loopback = c.loopback();
        if (mode.equals("memory")) {
            return new MemorySink(request.name(), loopback, "");
        }
        String noTun = ensureTunDevice();
        if (!noTun.isEmpty()) {
            if (mode.equals("tap")) {
                throw new SinkException("cannot create TAP " + request.name() + ": " + noTun);
            }
            log.warn(request.name() + ": no TAP (" + noTun + "); frames go to an in-memory sink"
                    + (loopback ? " that loops them back to the guest" : ""));
            return new MemorySink(request.name(), loopback, "no /dev/net/tun");
        }
        try {
            return TapSink.open(io, request, log, c.persistent());
        } catch (NativeException e) {
            if (mode.equals("tap")) {
                throw new SinkException("cannot create TAP " + request.name() + ": " + e.getMessage(), e);
            }
            log.warn(request.name() + ": TAP not permitted (" + e.getMessage()
                    + "); frames go to an in-memory sink" + (loopback ? " that loops them back to the guest" : ""));
            return new MemorySink(request.name(), loopback, "TAP not permitted");
        }
    }
}
