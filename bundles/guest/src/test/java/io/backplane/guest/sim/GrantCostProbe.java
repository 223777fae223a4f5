package io.backplane.guest.sim;

import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.hypervisor.GrantCopy;
import io.backplane.api.hypervisor.GrantMapping;
import io.backplane.hypervisor.sim.SimHypervisor;
import io.backplane.nativeio.NativeIo;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Not a test: prints what moving one 4 KiB page costs in the sim three ways (grant copy, map and
 * unmap per page, mapping kept), to compare with Xen's relative costs. Run by hand:
 * {@code java -cp <test classpath> io.backplane.guest.sim.GrantCostProbe}.
 */
public final class GrantCostProbe {
    private GrantCostProbe() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("grant-cost");
        NativeIo io = new NativeIo();
        SimHypervisor sim = SimHypervisor.start(dir, io, null, -1);
        int domid = sim.create(new DomainConfig("probe", 1024, 4)).domid();
        SimGuest guest = SimGuest.attach(dir, domid, io);
        int n = 512;
        int[] refs = new int[n];
        for (int i = 0; i < n; i++) {
            refs[i] = guest.grants().grantAccess(0, guest.memory().allocPage(), false);
        }
        ByteBuffer local = ByteBuffer.allocateDirect(4096 * 32);
        for (int round = 0; round < 5; round++) {
            long t0 = System.nanoTime();
            int ops = 0;
            int[] status = new int[32];
            for (int rep = 0; rep < 200; rep++) {
                for (int b = 0; b < n; b += 32) {
                    List<GrantCopy> batch = new ArrayList<>(32);
                    for (int i = 0; i < 32; i++) {
                        batch.add(GrantCopy.fromGrant(domid, refs[b + i], 0, local, i * 4096, 4096));
                    }
                    sim.copy(batch, status);
                    ops += 32;
                }
            }
            long t1 = System.nanoTime();
            long sum = 0;
            int maps = 0;
            for (int rep = 0; rep < 20; rep++) {
                for (int i = 0; i < n; i++) {
                    try (GrantMapping m = sim.map(domid, new int[] {refs[i]}, false)) {
                        ByteBuffer buf = m.buffer();
                        for (int off = 0; off < 4096; off += 64) {
                            sum += buf.getLong(off);
                        }
                    }
                    maps++;
                }
            }
            long t2 = System.nanoTime();
            GrantMapping all = sim.map(domid, refs, false);
            ByteBuffer buf = all.buffer();
            int reads = 0;
            for (int rep = 0; rep < 200; rep++) {
                for (int i = 0; i < n; i++) {
                    for (int off = 0; off < 4096; off += 64) {
                        sum += buf.getLong(i * 4096 + off);
                    }
                    reads++;
                }
            }
            long t3 = System.nanoTime();
            all.close();
            System.out.printf("round %d: copy %.2f us/page (batches of 32), map+touch+unmap %.2f us/page, mapped once %.3f us/page (%d)%n",
                    round, (t1 - t0) / 1e3 / ops, (t2 - t1) / 1e3 / maps, (t3 - t2) / 1e3 / reads, sum & 1);
        }
        guest.close();
        sim.close();
    }
}
