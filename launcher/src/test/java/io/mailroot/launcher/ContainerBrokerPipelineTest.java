package io.mailroot.launcher;

import io.mailroot.testkit.DockerEngine;
import io.mailroot.testkit.FreePorts;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.testcontainers.containers.FixedHostPortGenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;

/**
 * The same pipeline against a Kafka node in a container: Mailroot's own image running {@code mailroot broker}
 * (Kafka's KRaft server), the node a compose cluster is made of. Skipped, saying why, where no Docker engine runs
 * or the image is not built; a failure in CI.
 */
class ContainerBrokerPipelineTest extends PipelineScenarios {

    private static FixedHostPortGenericContainer<?> broker;
    private static int port;

    /** Started on first use: the base class's set-up asks for the bootstrap before anything else. */
    private static synchronized String startBroker() {
        if (broker == null) {
            DockerEngine.requireImage();
            // Kafka tells clients the address it advertises, so the host port must be the one it listens on.
            port = FreePorts.next();
            FixedHostPortGenericContainer<?> c = new FixedHostPortGenericContainer<>(DockerEngine.IMAGE);
            c.withFixedExposedPort(port, port)
                    .withCommand("broker")
                    .withEnv("MAILROOT_BROKER_LISTEN_ADDRESS", "0.0.0.0")
                    .withEnv("MAILROOT_BROKER_PORT", String.valueOf(port))
                    .withEnv("MAILROOT_BROKER_ADVERTISED_HOST", "localhost")
                    .withEnv("MAILROOT_JAVA_OPTS", "-Xmx512m -XX:+UseSerialGC")
                    .waitingFor(Wait.forHealthcheck().withStartupTimeout(Duration.ofMinutes(3)));
            c.start();
            broker = c;
        }
        return "localhost:" + port;
    }

    @Override
    protected String bootstrap() {
        return startBroker();
    }

    @AfterAll
    static void stopBroker() {
        if (broker != null) {
            broker.stop();
            broker = null;
        }
    }
}
