package io.backplane.guest.grantpool;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * dom0's handle on a {@link GrantPoolMain} guest process: starts it as its own JVM on this
 * process's class path, reads the granted references, sends it commands. For tests and
 * benchmarks; the guest's stderr goes to this process's stderr.
 */
public final class GrantPoolProcess implements AutoCloseable {
    private final Process process;
    private final BufferedReader out;
    private final Writer in;
    private final int ringRef;
    private final int readOnlyRef;
    private final int[] refs;

    private GrantPoolProcess(Process process) throws IOException {
        this.process = process;
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        String ready = out.readLine();
        if (ready == null || !ready.startsWith("ready ")) {
            process.destroyForcibly();
            throw new IOException("the grant pool guest did not start (it said: " + ready + "; its stderr is above)");
        }
        String[] w = ready.split(" ");
        this.ringRef = Integer.parseInt(w[1]);
        this.readOnlyRef = Integer.parseInt(w[2]);
        this.refs = w.length > 3 ? Arrays.stream(w[3].split(",")).mapToInt(Integer::parseInt).toArray() : new int[0];
    }

    /** Starts the guest for domain {@code domid} of the sim at {@code stateDir}, granting {@code pages} pages. */
    public static GrantPoolProcess start(Path stateDir, int domid, int pages) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xmx64m", "-cp", System.getProperty("java.class.path"),
                GrantPoolMain.class.getName(), stateDir.toString(), Integer.toString(domid), Integer.toString(pages))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        return new GrantPoolProcess(p);
    }

    /** The writable ring page's grant reference. */
    public int ringRef() {
        return ringRef;
    }

    /** A page granted read-only. */
    public int readOnlyRef() {
        return readOnlyRef;
    }

    /** The writable data pages' grant references; page of ref r holds pattern(r, offset). */
    public int[] refs() {
        return refs.clone();
    }

    /** The grant entry's GTF_* flags as the guest sees them now. */
    public int flags(int ref) throws IOException {
        return Integer.parseInt(ask("flags " + ref).substring("flags ".length()));
    }

    /** {@code ok} when the guest's page of {@code ref} holds pattern(seed, offset) throughout, else where it differs. */
    public String check(int ref, int seed) throws IOException {
        return ask("check " + ref + " " + seed);
    }

    /** The guest fills its page of {@code ref} with pattern(seed, offset). */
    public void fill(int ref, int seed) throws IOException {
        ask("fill " + ref + " " + seed);
    }

    /** The guest tries to end access to {@code ref}; false while dom0 has it mapped. */
    public boolean revoke(int ref) throws IOException {
        return ask("revoke " + ref).equals("revoked true");
    }

    private String ask(String command) throws IOException {
        in.write(command + "\n");
        in.flush();
        String answer = out.readLine();
        if (answer == null) {
            throw new IOException("the grant pool guest exited (asked: " + command + ")");
        }
        return answer;
    }

    /** Asks the guest to quit and waits for it; kills it if it does not. */
    @Override
    public void close() {
        try {
            in.write("quit\n");
            in.flush();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (IOException | InterruptedException e) {
            process.destroyForcibly();
        }
    }
}
