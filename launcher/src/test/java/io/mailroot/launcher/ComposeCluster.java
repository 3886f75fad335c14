package io.mailroot.launcher;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The top-level docker-compose.yml plus a test overlay, as one compose project driven through the CLI. */
final class ComposeCluster {

    record Result(int exit, String output) {
        boolean ok() {
            return exit == 0;
        }
    }

    private final Path root;
    private final String project;
    private final List<String> files;
    private final Map<String, String> env;

    ComposeCluster(Path root, String project, List<String> files, Map<String, String> env) {
        this.root = root;
        this.project = project;
        this.files = files;
        this.env = env;
    }

    /** Whether a Docker engine answers and the image exists; the reason when not. */
    static String unavailable(String image) {
        Result info = run(Path.of("."), Map.of(), Duration.ofSeconds(30), "docker", "info", "--format", "{{.ServerVersion}}");
        if (!info.ok()) {
            return "no Docker engine (docker info: " + info.output().strip() + ")";
        }
        Result compose = run(Path.of("."), Map.of(), Duration.ofSeconds(30), "docker-compose", "version", "--short");
        if (!compose.ok()) {
            return "no docker-compose (" + compose.output().strip() + ")";
        }
        Result img = run(Path.of("."), Map.of(), Duration.ofSeconds(30), "docker", "image", "inspect", "-f", "{{.Id}}", image);
        if (!img.ok()) {
            return "no image " + image + " (build it: docker build --network host -t " + image + " .)";
        }
        return null;
    }

    Result compose(Duration timeout, String... args) {
        List<String> cmd = new ArrayList<>(List.of("docker-compose", "--ansi", "never", "-p", project));
        for (String f : files) {
            cmd.add("-f");
            cmd.add(f);
        }
        cmd.addAll(Arrays.asList(args));
        return run(root, env, timeout, cmd.toArray(String[]::new));
    }

    Result docker(String... args) {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "docker";
        System.arraycopy(args, 0, cmd, 1, args.length);
        return run(root, env, Duration.ofSeconds(60), cmd);
    }

    Result dockerOrFail(String... args) {
        Result r = docker(args);
        if (!r.ok()) {
            throw new AssertionError("docker " + String.join(" ", args) + " failed: " + r.output());
        }
        return r;
    }

    /** Every container of the project, running or not. */
    List<String> containers() {
        Result r = dockerOrFail("ps", "-a", "--filter", "label=com.docker.compose.project=" + project,
                "--format", "{{.Names}}");
        return r.output().lines().map(String::strip).filter(s -> !s.isEmpty()).sorted().toList();
    }

    /** healthy, unhealthy, starting, or the container's state when it has no health check or is not running. */
    String health(String container) {
        Result r = docker("inspect", "-f", "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}",
                container);
        if (!r.ok()) {
            return "missing";
        }
        String[] parts = r.output().strip().split(" ");
        return !parts[0].equals("running") ? parts[0] : parts.length > 1 ? parts[1] : "running";
    }

    /** The containers that are not healthy, by one {@code docker inspect}. */
    List<String> notHealthy(List<String> containers) {
        List<String> args = new ArrayList<>(List.of("inspect", "-f",
                "{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}"));
        args.addAll(containers);
        Result r = docker(args.toArray(String[]::new));
        List<String> not = new ArrayList<>(r.ok() ? List.of() : List.of("(docker inspect: " + r.output().strip() + ")"));
        r.output().lines().map(String::strip).filter(l -> l.startsWith("/")).forEach(l -> {
            String[] parts = l.substring(1).split(" ");
            if (parts.length < 3 || !parts[1].equals("running") || !parts[2].equals("healthy")) {
                not.add(l.substring(1));
            }
        });
        return not;
    }

    String startedAt(String container) {
        return dockerOrFail("inspect", "-f", "{{.State.StartedAt}}", container).output().strip();
    }

    String volumeMountpoint(String volume) {
        return dockerOrFail("volume", "inspect", "-f", "{{.Mountpoint}}", volume).output().strip();
    }

    String project() {
        return project;
    }

    static Result run(Path dir, Map<String, String> env, Duration timeout, String... cmd) {
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
            pb.environment().putAll(env);
            Path out = Files.createTempFile("compose", ".out");
            try {
                pb.redirectOutput(out.toFile());
                Process p = pb.start();
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly();
                    return new Result(-1, String.join(" ", cmd) + ": no end within " + timeout + "\n"
                            + Files.readString(out, StandardCharsets.UTF_8));
                }
                return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
            }
        } catch (IOException e) {
            return new Result(-1, cmd[0] + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, "interrupted");
        }
    }
}
