package io.mailroot.launcher;

import io.mailroot.testkit.Await;
import io.mailroot.testkit.FreePorts;
import io.mailroot.testkit.SmtpTestClient;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code mailroot start --config FILE} as a separate JVM, with its own embedded broker on a free port pair, so a
 * test can kill it with SIGKILL ({@link Process#destroyForcibly()}) and start it again on the same data folder.
 * Everything the child prints goes to one log file (appended across restarts), so its pipes never fill. Other
 * commands ({@code mailroot run ROLE...}) and JVM options (a small heap) can be chosen instead.
 */
final class KillNineRelay implements AutoCloseable {

    static final Duration START_WAIT = Duration.ofSeconds(60);

    private final Path config;
    private final Path log;
    private final int smtpPort;
    private final List<String> jvmOptions;
    private final List<String> command;
    private final List<Process> started = new ArrayList<>();
    private Process current;
    private String classpath;

    KillNineRelay(Path config, Path log, int smtpPort) {
        this(config, log, smtpPort, List.of("-Xms128m", "-Xmx768m"), List.of("start"));
    }

    /**
     * @param jvmOptions options for the child JVM (heap size, GC log)
     * @param command the mailroot command and its arguments, before {@code --config FILE}
     */
    KillNineRelay(Path config, Path log, int smtpPort, List<String> jvmOptions, List<String> command) {
        this.config = config;
        this.log = log;
        this.smtpPort = smtpPort;
        this.jvmOptions = List.copyOf(jvmOptions);
        this.command = List.copyOf(command);
    }

    /** A client port for the embedded broker whose successor (the controller port) is free too. */
    static int freeBrokerPortPair(int... avoid) {
        for (int attempt = 0; attempt < 100; attempt++) {
            int p = FreePorts.next();
            if (p + 1 > 65535 || contains(avoid, p) || contains(avoid, p + 1)) {
                continue;
            }
            if (canBind(p + 1) && canBind(p)) {
                return p;
            }
        }
        throw new IllegalStateException("no free port pair on 127.0.0.1 after 100 attempts");
    }

    private static boolean contains(int[] a, int v) {
        for (int x : a) {
            if (x == v) {
                return true;
            }
        }
        return false;
    }

    private static boolean canBind(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress("127.0.0.1", port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Starts a new process and waits until its SMTP port answers 220. */
    Process start() throws IOException {
        if (current != null && current.isAlive()) {
            throw new IllegalStateException("the previous relay process is still running");
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        // The launcher's own logging (INFO for io.mailroot) rather than the tests' logback-test.xml (WARN).
        Path mainLogback = mainLogback();
        if (mainLogback != null) {
            cmd.add("-Dlogback.configurationFile=" + mainLogback);
        }
        cmd.add("-cp");
        cmd.add(classpath());
        cmd.add(Main.class.getName());
        cmd.addAll(command);
        cmd.add("--config");
        cmd.add(config.toString());
        Files.writeString(log, "\n===== starting relay process " + (started.size() + 1) + " =====\n",
                StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .directory(config.getParent().toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        current = pb.start();
        started.add(current);
        Process p = current;
        Await.until("SMTP on 127.0.0.1:" + smtpPort + " answering 220 (relay log: " + log + ")", START_WAIT, () -> {
            if (!p.isAlive()) {
                throw new AssertionError("the relay process exited with " + p.exitValue() + " before SMTP answered:\n"
                        + logTail());
            }
            return smtpAnswers();
        });
        return p;
    }

    /**
     * This JVM's class path, with the project's own jars (other modules, installed in the local Maven repository)
     * copied beside the config once: a module re-installed while the test runs would otherwise be swapped under
     * the child JVM, which loads classes lazily, and fail it with NoClassDefFoundError. Both processes of a test
     * run the same copy.
     */
    private String classpath() throws IOException {
        if (classpath != null) {
            return classpath;
        }
        Path lib = config.getParent().resolve("lib");
        Files.createDirectories(lib);
        List<String> entries = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(entry);
            String name = p.getFileName() == null ? "" : p.getFileName().toString();
            if (name.startsWith("mailroot-") && name.endsWith(".jar") && Files.isRegularFile(p)) {
                Path copy = lib.resolve(name);
                Files.copy(p, copy, StandardCopyOption.REPLACE_EXISTING);
                entries.add(copy.toString());
            } else {
                entries.add(entry);
            }
        }
        classpath = String.join(File.pathSeparator, entries);
        return classpath;
    }

    private boolean smtpAnswers() {
        try (SmtpTestClient c = new SmtpTestClient("127.0.0.1", smtpPort)) {
            boolean ok = c.greeting().startsWith("220");
            c.command("QUIT");
            return ok;
        } catch (IOException e) {
            return false;
        }
    }

    /** SIGKILL: no shutdown hook runs, nothing is flushed or closed by the relay. */
    void killNine() {
        Process p = current;
        if (p == null) {
            return;
        }
        p.destroyForcibly();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                throw new AssertionError("the relay process did not die after SIGKILL");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted waiting for the killed relay");
        }
    }

    Process current() {
        return current;
    }

    String logTail() {
        try {
            String s = Files.readString(log, StandardCharsets.UTF_8);
            return s.length() > 6000 ? "..." + s.substring(s.length() - 6000) : s;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path mainLogback() {
        URL url = KillNineRelay.class.getResource("/logback.xml");
        if (url == null || !"file".equals(url.getProtocol())) {
            return null;
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            return null;
        }
    }

    /** Kills every process this relay started; safe to call more than once. */
    @Override
    public void close() {
        for (Process p : started) {
            if (p.isAlive()) {
                p.destroyForcibly();
            }
        }
        for (Process p : started) {
            try {
                p.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
