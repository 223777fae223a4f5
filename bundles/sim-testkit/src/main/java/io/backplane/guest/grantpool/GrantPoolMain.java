package io.backplane.guest.grantpool;

import io.backplane.api.hypervisor.ShutdownReason;
import io.backplane.guest.sim.SimGuest;
import io.backplane.nativeio.NativeIo;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.StringJoiner;

/**
 * A guest process that grants dom0 a pool of pages, as a persistent-grant frontend keeps one, and
 * answers commands about them on stdin, so dom0-side tests and benchmarks check what reached the
 * guest's memory from the guest itself. Usage: {@code STATE_DIR DOMID PAGES}.
 *
 * <p>It grants one ring page (writable), PAGES data pages (writable) filled with
 * {@link #pattern(int, int) pattern(ref, offset)}, and one read-only page filled the same way,
 * then prints {@code ready RING_REF RO_REF REF,REF,...}. Commands, one answer line each:
 * {@code flags REF} -> {@code flags N} (the entry's GTF_* bits now);
 * {@code check REF SEED} -> {@code ok} or {@code bad REF at OFFSET} (page equals pattern(SEED, offset));
 * {@code fill REF SEED} -> {@code ok}; {@code revoke REF} -> {@code revoked true|false};
 * {@code quit} -> powers the domain off and exits 0.
 */
public final class GrantPoolMain {
    private GrantPoolMain() {
    }

    /** The byte at {@code offset} of a page filled with {@code seed}. */
    public static byte pattern(int seed, int offset) {
        return (byte) (seed * 31 + offset * 7 + (offset >> 8));
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: GrantPoolMain STATE_DIR DOMID PAGES");
            System.exit(2);
        }
        int pages = Integer.parseInt(args[2]);
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        try (SimGuest guest = SimGuest.attach(Path.of(args[0]), Integer.parseInt(args[1]), new NativeIo())) {
            Map<Integer, ByteBuffer> byRef = new HashMap<>();
            int ring = grant(guest, byRef, false);
            int readOnly = grant(guest, byRef, true);
            StringJoiner refs = new StringJoiner(",");
            for (int i = 0; i < pages; i++) {
                refs.add(Integer.toString(grant(guest, byRef, false)));
            }
            out.println("ready " + ring + " " + readOnly + " " + refs);
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line; (line = in.readLine()) != null; ) {
                String[] w = line.trim().split(" ");
                switch (w[0]) {
                    case "flags" -> out.println("flags " + guest.grants().flags(Integer.parseInt(w[1])));
                    case "check" -> out.println(check(byRef, Integer.parseInt(w[1]), Integer.parseInt(w[2])));
                    case "fill" -> {
                        fill(byRef.get(Integer.parseInt(w[1])), Integer.parseInt(w[2]));
                        out.println("ok");
                    }
                    case "revoke" -> out.println("revoked " + guest.grants().endAccess(Integer.parseInt(w[1])));
                    case "quit" -> {
                        guest.shutdown(ShutdownReason.POWEROFF);
                        return;
                    }
                    default -> out.println("unknown command " + w[0]);
                }
            }
        }
    }

    private static int grant(SimGuest guest, Map<Integer, ByteBuffer> byRef, boolean readonly) {
        long frame = guest.memory().allocPage();
        int ref = guest.grants().grantAccess(0, frame, readonly);
        ByteBuffer page = guest.memory().page(frame);
        fill(page, ref);
        byRef.put(ref, page);
        return ref;
    }

    private static void fill(ByteBuffer page, int seed) {
        for (int off = 0; off < page.capacity(); off++) {
            page.put(off, pattern(seed, off));
        }
    }

    private static String check(Map<Integer, ByteBuffer> byRef, int ref, int seed) {
        ByteBuffer page = byRef.get(ref);
        if (page == null) {
            return "bad " + ref + " is not in the pool";
        }
        for (int off = 0; off < page.capacity(); off++) {
            if (page.get(off) != pattern(seed, off)) {
                return "bad " + ref + " at " + off;
            }
        }
        return "ok";
    }
}
