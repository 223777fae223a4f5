package io.backplane.hypervisor.xen;

import io.backplane.api.hypervisor.DomainInfo;
import io.backplane.api.hypervisor.EventChannel;
import io.backplane.api.hypervisor.GrantCopy;
import io.backplane.api.hypervisor.GrantException;
import io.backplane.api.hypervisor.GrantMapping;
import io.backplane.api.hypervisor.GrantStatus;
import io.backplane.api.hypervisor.GrantTables;
import io.backplane.api.hypervisor.HypervisorException;
import io.backplane.api.log.OperatorLog;
import io.backplane.nativeio.NativeIo;
import io.backplane.nativeio.Posix;
import io.backplane.xs.client.SocketXenStore;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Run inside a Xen dom0 by itests/xen-rig/run.sh: the xen hypervisor's classes against the real
 * devices. dom0 grants pages to itself through /dev/xen/gntalloc (what a frontend does in a
 * guest), maps and copies them through {@link GrantTables}; an event channel loops back inside
 * dom0; refusals must carry Xen's GNTST codes and errnos. Prints one XENRIG line per check.
 */
public final class XenRigCheck {
    /** xen/sys/gntalloc.h, checked with gcc when this was written (not part of the bundle). */
    private static final long IOCTL_GNTALLOC_ALLOC_GREF = 1591045;
    private static final int GNTALLOC_FLAG_WRITABLE = 1;
    private static final int NO_DOMAIN = 0x7FEF;

    private int pass;
    private int fail;

    public static void main(String[] args) throws Exception {
        XenRigCheck check = new XenRigCheck();
        check.run(args.length > 0 ? args[0] : null);
        System.out.println("XENRIG DONE pass=" + check.pass + " fail=" + check.fail);
        System.exit(check.fail == 0 ? 0 : 1);
    }

    private void run(String guestConfig) throws Exception {
        NativeIo io = new NativeIo();
        Path socket = Path.of("/var/run/xenstored/socket");
        try (XenDevices devices = XenDevices.open(io, OperatorLog.lines(w -> System.out.println("XENRIG WARN " + w)))) {
            ok("open gntdev, evtchn, privcmd", true, "");
            check("evtchn loopback in dom0", () -> eventLoopback(devices));
            check("evtchn awaited port (its own device) in dom0", () -> awaitedLoopback(devices));
            check("evtchn re-bound to a port whose bound end was closed (a backend restart)", () -> rebind(devices));
            check("gntalloc grant mapped, batch-unmapped and copied through gntdev", () -> grantSelf(io, devices.grantTables()));
            check("GNTST_bad_domain for a nonexistent domain", () -> badDomain(devices.grantTables()));
            check("GNTST_bad_gntref for a ref beyond dom0's table", () -> badRef(devices.grantTables()));
            check("privcmd refuses a nonexistent domain", () -> {
                try {
                    devices.foreignMemory().map(NO_DOMAIN, new long[] {0}, false).close();
                    return "mapped a frame of a nonexistent domain";
                } catch (HypervisorException e) {
                    System.out.println("XENRIG INFO privcmd: " + e.getMessage());
                    return null;
                }
            });
            if (guestConfig != null) {
                check("a real PV guest's netfront rings through GrantTables and EventChannels", () -> {
                    try (SocketXenStore store = new SocketXenStore(socket)) {
                        return new XenRigGuest(devices, store).run(guestConfig);
                    }
                });
            }
        }
        if (Files.exists(socket)) {
            check("Domains over the real xenstored", () -> {
                try (SocketXenStore store = new SocketXenStore(socket)) {
                    XenStoreDomains domains = new XenStoreDomains(store);
                    DomainInfo dom0 = domains.info(0).orElse(null);
                    List<DomainInfo> guests = domains.list();
                    System.out.println("XENRIG INFO dom0 " + dom0 + ", guests " + guests);
                    return dom0 == null ? "no /local/domain/0" : null;
                }
            });
        } else {
            System.out.println("XENRIG INFO no xenstored socket: Domains not checked");
        }
    }

    private String eventLoopback(XenDevices devices) throws Exception {
        LinkedBlockingQueue<Integer> a = new LinkedBlockingQueue<>();
        LinkedBlockingQueue<Integer> b = new LinkedBlockingQueue<>();
        try (EventChannel unbound = devices.eventChannels().allocUnbound(0, ch -> a.add(ch.port()));
             EventChannel bound = devices.eventChannels().bindInterdomain(0, unbound.port(), ch -> b.add(ch.port()))) {
            Integer initial = b.poll(1, TimeUnit.SECONDS);
            System.out.println("XENRIG INFO ports " + unbound.port() + " <-> " + bound.port() + ", initial event on bind: " + initial);
            bound.unmask();
            unbound.unmask();
            a.clear();
            b.clear();
            bound.notifyRemote();
            Integer got = a.poll(10, TimeUnit.SECONDS);
            if (got == null || got != unbound.port()) {
                return "no event on the unbound end after notify (got " + got + ")";
            }
            if (!unbound.isMasked()) {
                return "port not masked after delivery";
            }
            bound.notifyRemote();
            if (a.poll(500, TimeUnit.MILLISECONDS) != null) {
                return "delivered again while masked";
            }
            unbound.unmask();
            if (a.poll(10, TimeUnit.SECONDS) == null) {
                return "the notification sent while masked was not delivered on unmask";
            }
            unbound.notifyRemote();
            if (b.poll(10, TimeUnit.SECONDS) == null) {
                return "no event on the bound end";
            }
            bound.close();
            try {
                bound.notifyRemote();
                return "notify after close did not fail";
            } catch (HypervisorException e) {
                return e.errno().equals("EINVAL") ? null : "notify after close: " + e.getMessage();
            }
        }
    }

    /**
     * What a restarted backend does: the end bound to a guest's port is closed (the process died
     * or handed the device over), which leaves the other port unbound and waiting for dom0; a new
     * binding to the same port works and carries events both ways. Here both ends are dom0's.
     */
    private String rebind(XenDevices devices) throws Exception {
        LinkedBlockingQueue<Integer> a = new LinkedBlockingQueue<>();
        try (EventChannel guest = devices.eventChannels().allocUnbound(0, ch -> a.add(ch.port()))) {
            devices.eventChannels().bindInterdomain(0, guest.port(), ch -> { }).close();
            try (EventChannel again = devices.eventChannels().bindInterdomainAwaited(0, guest.port())) {
                again.await(1000);                       // a newly bound port may be pending once
                again.unmask();
                guest.unmask();
                a.clear();
                again.notifyRemote();
                if (a.poll(10, TimeUnit.SECONDS) == null) {
                    return "no event on the re-bound port's peer after notify";
                }
                guest.unmask();
                guest.notifyRemote();
                return again.await(10_000) ? null : "no event on the re-bound port";
            }
        } catch (HypervisorException e) {
            return "re-binding failed: " + e.getMessage();
        }
    }

    /** A port bound with bindInterdomainAwaited: its thread reads its events itself, masked until unmask. */
    private String awaitedLoopback(XenDevices devices) throws Exception {
        LinkedBlockingQueue<Integer> a = new LinkedBlockingQueue<>();
        try (EventChannel unbound = devices.eventChannels().allocUnbound(0, ch -> a.add(ch.port()));
             EventChannel awaited = devices.eventChannels().bindInterdomainAwaited(0, unbound.port())) {
            boolean initial = awaited.await(1000);
            System.out.println("XENRIG INFO awaited port " + awaited.port() + " <-> " + unbound.port() + ", initial event on bind: " + initial);
            awaited.unmask();
            unbound.unmask();
            a.clear();
            if (awaited.await(200)) {
                return "an event with nothing sent";
            }
            unbound.notifyRemote();
            if (!awaited.await(10_000)) {
                return "no event on the awaited port after notify";
            }
            if (!awaited.isMasked()) {
                return "awaited port not masked after its event";
            }
            unbound.notifyRemote();
            if (awaited.await(500)) {
                return "awaited port delivered again while masked";
            }
            awaited.unmask();
            if (!awaited.await(10_000)) {
                return "the notification sent while masked was not delivered on unmask";
            }
            awaited.unmask();
            awaited.notifyRemote();
            if (a.poll(10, TimeUnit.SECONDS) == null) {
                return "no event on the handler's end from the awaited port";
            }
            return null;
        }
    }

    private String grantSelf(NativeIo io, GrantTables grants) throws java.io.IOException {
        int fd = io.open("/dev/xen/gntalloc", Posix.O_RDWR, 0);
        try {
            // struct ioctl_gntalloc_alloc_gref for two pages: domid@0, flags@2, count@4, index@8, gref_ids@16.
            ByteBuffer req = ByteBuffer.allocateDirect(24).order(ByteOrder.nativeOrder());
            req.putShort(0, (short) 0).putShort(2, (short) GNTALLOC_FLAG_WRITABLE).putInt(4, 2);
            return grantSelf(io, grants, fd, req);
        } finally {
            io.close(fd);
        }
    }

    private String grantSelf(NativeIo io, GrantTables grants, int fd, ByteBuffer req) throws java.io.IOException {
        io.ioctl(fd, IOCTL_GNTALLOC_ALLOC_GREF, req);
        long index = req.getLong(8);
        int[] refs = {req.getInt(16), req.getInt(20)};
        System.out.println("XENRIG INFO gntalloc granted refs " + refs[0] + ", " + refs[1] + " to dom0");
        long granted = io.mmap(0, 8192, Posix.PROT_READ | Posix.PROT_WRITE, Posix.MAP_SHARED, fd, index);
        try {
            ByteBuffer g = io.buffer(granted, 8192);
            for (int i = 0; i < 8192; i++) {
                g.put(i, (byte) (i * 7 + 3));
            }
            try (GrantMapping m = grants.map(0, refs, true)) {
                ByteBuffer b = m.buffer();
                for (int i = 0; i < 8192; i++) {
                    if (b.get(i) != (byte) (i * 7 + 3)) {
                        return "mapped byte " + i + " differs from the granted page";
                    }
                }
                b.put(5000, (byte) 0x5A);
                if (g.get(5000) != 0x5A) {
                    return "a write through the mapping did not reach the granted page";
                }
            }
            try (GrantMapping ro = grants.map(0, new int[] {refs[1]}, false)) {
                if (!ro.buffer().isReadOnly() || ro.buffer().get(1) != (byte) (4096 * 7 + 1 * 7 + 3)) {
                    return "read-only mapping wrong";
                }
            }
            // The batched unmap: two maps (one ioctl and mmap each) go in one GrantTables.unmap call.
            GrantMapping first = grants.map(0, new int[] {refs[0]}, false);
            GrantMapping second = grants.map(0, new int[] {refs[1]}, false);
            if (first.buffer().get(9) != (byte) (9 * 7 + 3) || second.buffer().get(9) != (byte) (4105 * 7 + 3)) {
                return "a mapping of a batch shows the wrong page";
            }
            grants.unmap(List.of(first, second, first));
            String maps = Files.readString(Path.of("/proc/self/maps"));
            for (GrantMapping m : List.of(first, second)) {
                if (maps.contains(Long.toHexString(m.address()) + "-")) {
                    return "a batch-unmapped mapping is still in /proc/self/maps at 0x" + Long.toHexString(m.address());
                }
            }
            grants.unmap(List.of(first, second)); // already unmapped: nothing happens
            ByteBuffer local = ByteBuffer.allocateDirect(4096);
            int[] status = new int[3];
            grants.copy(List.of(
                    GrantCopy.fromGrant(0, refs[0], 100, local, 0, 200),
                    GrantCopy.toGrant(local, 0, 0, refs[1], 4000, 96),
                    GrantCopy.fromGrant(0, refs[0], 4000, local, 0, 200)), status);
            if (status[0] != 0 || status[1] != 0 || status[2] != GrantStatus.BAD_COPY_ARG.code()) {
                return "copy status " + status[0] + ", " + status[1] + ", " + status[2];
            }
            for (int i = 0; i < 96; i++) {
                if (g.get(4096 + 4000 + i) != (byte) ((100 + i) * 7 + 3)) {
                    return "copied byte " + i + " wrong";
                }
            }
            return null;
        } finally {
            io.munmap(granted, 8192);
        }
    }

    private String badDomain(GrantTables grants) {
        int[] status = new int[1];
        grants.copy(List.of(GrantCopy.fromGrant(NO_DOMAIN, 1, 0, ByteBuffer.allocateDirect(8), 0, 8)), status);
        if (status[0] != GrantStatus.BAD_DOMAIN.code()) {
            return "copy status " + status[0];
        }
        try {
            grants.map(NO_DOMAIN, new int[] {1, 2}, false).close();
            return "mapped grants of a nonexistent domain";
        } catch (GrantException e) {
            System.out.println("XENRIG INFO " + e.getMessage());
            return e.status() == GrantStatus.BAD_DOMAIN && e.ref() == 1 ? null : "map refused with " + e.status();
        }
    }

    private String badRef(GrantTables grants) {
        int[] status = new int[1];
        grants.copy(List.of(GrantCopy.fromGrant(0, 0xFFFFFF, 0, ByteBuffer.allocateDirect(8), 0, 8)), status);
        System.out.println("XENRIG INFO copy from ref 0xffffff of dom0: status " + status[0]);
        return status[0] == GrantStatus.BAD_GNTREF.code() ? null : "status " + status[0];
    }

    private interface Check {
        String run() throws Exception;
    }

    private void check(String name, Check c) {
        try {
            String problem = c.run();
            ok(name, problem == null, problem);
        } catch (Exception | Error e) {
            ok(name, false, e.toString());
        }
    }

    private void ok(String name, boolean good, String problem) {
        if (good) {
            pass++;
            System.out.println("XENRIG PASS " + name);
        } else {
            fail++;
            System.out.println("XENRIG FAIL " + name + ": " + problem);
        }
    }
}
