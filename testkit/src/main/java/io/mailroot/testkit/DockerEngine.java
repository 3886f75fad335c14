package io.mailroot.testkit;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Whether container tests can run here: a Docker engine that answers, and Mailroot's image built from this tree
 * ({@code docker/base-image.sh && docker build --network host -t mailroot:latest .}; {@code .ci/run} does both).
 * Where either is missing they skip and say why, except in CI ({@code CI=true}), where that is a failure: CI
 * starts the engine and builds the image, so a missing one means CI is broken, not that the tests may pass.
 */
public final class DockerEngine {

    public static final String IMAGE = "mailroot:latest";

    private DockerEngine() {
    }

    /** Skips (or in CI fails) the calling test unless the engine answers and {@link #IMAGE} exists. */
    public static void requireImage() {
        if (!succeeds("docker", "info")) {
            unavailable("no Docker engine answers ('docker info' fails); start dockerd to run the container tests");
        }
        if (!succeeds("docker", "image", "inspect", IMAGE)) {
            unavailable("the image " + IMAGE + " is not built; run docker/base-image.sh && docker build --network host -t "
                    + IMAGE + " .");
        }
    }

    private static void unavailable(String why) {
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            Assertions.fail("CI=true: " + why);
        }
        Assumptions.abort(why);
    }

    private static boolean succeeds(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return false;
            }
            return p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
