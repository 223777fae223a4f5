package io.backplane.hypervisor.sim;

import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.hypervisor.DomainInfo;
import io.backplane.guest.sim.SimGuest;
import io.backplane.nativeio.NativeIo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A running sim in a temporary state directory, shared by the tests of one class. */
final class SimFixture implements AutoCloseable {
    final NativeIo io;
    final Path stateDir;
    final SimHypervisor sim;

    SimFixture(NativeIo io, Path stateDir) throws IOException {
        this.io = io;
        this.stateDir = stateDir;
        this.sim = SimHypervisor.start(stateDir, io, null, -1);
    }

    DomainInfo create(String name, long pages) {
        return sim.create(new DomainConfig(name, pages, 1));
    }

    SimGuest attach(int domid) throws IOException {
        return SimGuest.attach(stateDir, domid, io);
    }

    /** dom0's mappings of files under this state directory, as the kernel lists them. */
    long mappingsOfStateDir() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/maps")).stream()
                .filter(l -> l.contains(stateDir.toString() + "/domains/")).count();
    }

    @Override
    public void close() {
        sim.close();
    }
}
