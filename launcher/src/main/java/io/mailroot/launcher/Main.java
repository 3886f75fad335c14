package io.mailroot.launcher;

import io.mailroot.broker.ClusterBroker;
import io.mailroot.core.config.ConfigException;
import io.mailroot.core.config.ConfigLoader;
import io.mailroot.core.config.ConfigTable;
import io.mailroot.core.config.EnvironmentSettings;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.role.FatalErrors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/** The {@code mailroot} command. */
public final class Main {

    private static final String USAGE = """
            usage: mailroot start [--config FILE]            every role, beside an embedded Kafka broker
                   mailroot run ROLE... [--config FILE]      chosen roles against kafka.bootstrap
                   mailroot broker [--config FILE]           one Kafka KRaft node (broker.* settings) of a cluster
                   mailroot config                           print the configuration settings and defaults
                   mailroot topics [--json] [--bootstrap HOST:PORT]   lag of every topic, partition and group
                   mailroot user add|passwd|remove NAME | list   manage the SMTP AUTH users file
                   mailroot trail ID [--json] [--config FILE]  one message's history on every node, in time order
                   mailroot log [-f] [-n N] [--config FILE]    the delivery log: the last N events (50); -f follows
                   mailroot queue [summary|shape] [--json] [FILTERS]   what waits and why ('mailroot queue help')
                   mailroot badmail list | show|resubmit|delete NAME   the Badmail folder ('mailroot badmail')
                   mailroot queue retry-now|hold|release|delete|expire ID|DOMAIN [--dry-run]   act on queued mail
            roles: ingress (SMTP), pickup, http, router, deliverer, retry, drop, ndr, queue (the queue view)
            Without --config, the file MAILROOT_CONFIG names, else ./mailroot.yml when present; otherwise defaults apply.
            Any setting may also come from a MAILROOT_* variable (kafka.bootstrap: MAILROOT_KAFKA_BOOTSTRAP); it wins over the file.""";

    private Main() {
    }

    public static void main(String[] args) {
        try {
            System.exit(run(args));
        } catch (ConfigException e) {
            System.err.println("mailroot: " + e.getMessage());
            System.exit(2);
        }
    }

    static int run(String[] args) {
        return run(args, System.getenv());
    }

    /** @param env the environment: MAILROOT_CONFIG and the settings' MAILROOT_* variables */
    static int run(String[] args, Map<String, String> env) {
        if (args.length == 0 || args[0].equals("help") || args[0].equals("--help")) {
            System.out.println(USAGE);
            return args.length == 0 ? 2 : 0;
        }
        List<String> rest = new ArrayList<>(List.of(args).subList(1, args.length));
        Path configFile = option(rest, "--config");
        return switch (args[0]) {
            case "start" -> {
                if (!rest.isEmpty()) {
                    throw new ConfigException("'mailroot start' takes no arguments besides --config FILE; got " + rest);
                }
                yield serve(load(configFile, env), RoleName.all());
            }
            case "run" -> {
                if (rest.isEmpty()) {
                    throw new ConfigException("'mailroot run' needs at least one role: ingress, pickup, http, router, deliverer, retry, drop, ndr, queue");
                }
                yield serve(load(configFile, env), rest.stream().map(RoleName::parse).toList());
            }
            case "broker" -> {
                if (!rest.isEmpty()) {
                    throw new ConfigException("'mailroot broker' takes no arguments besides --config FILE; got " + rest);
                }
                yield serveBroker(load(configFile, env));
            }
            case "user" -> UserCommand.run(rest, load(configFile, env));
            case "queue" -> QueueCommand.run(rest, load(configFile, env));
            case "badmail" -> BadmailCommand.run(rest, load(configFile, env));
            case "topics" -> TopicsCommand.run(rest, load(configFile, env), System.out, System.err);
            case "trail" -> TrailCommand.run(rest, load(configFile, env), System.out, System.err);
            case "log" -> LogCommand.run(rest, load(configFile, env), System.out, System.err,
                    () -> Thread.currentThread().isInterrupted());
            case "config" -> {
                System.out.print(ConfigTable.markdown());
                yield 0;
            }
            default -> {
                System.err.println("mailroot: unknown command '" + args[0] + "'\n" + USAGE);
                yield 2;
            }
        };
    }

    private static Path option(List<String> args, String name) {
        int i = args.indexOf(name);
        if (i < 0) {
            return null;
        }
        if (i + 1 >= args.size()) {
            throw new ConfigException(name + " needs a file name");
        }
        Path p = Path.of(args.get(i + 1));
        args.remove(i + 1);
        args.remove(i);
        return p;
    }

    /** @param file from --config, or null: then MAILROOT_CONFIG, then ./mailroot.yml if there is one */
    static MailrootConfig load(Path file, Map<String, String> env) {
        String fromEnv = env.get(EnvironmentSettings.CONFIG_FILE);
        if (file == null && fromEnv != null && !fromEnv.isBlank()) {
            file = Path.of(fromEnv);
            if (!Files.isRegularFile(file)) {
                throw new ConfigException("configuration file " + file + " (from " + EnvironmentSettings.CONFIG_FILE
                        + ") does not exist");
            }
        }
        if (file != null) {
            if (!Files.isRegularFile(file)) {
                throw new ConfigException("configuration file " + file + " does not exist");
            }
            return ConfigLoader.load(file, env);
        }
        Path here = Path.of("mailroot.yml");
        return Files.isRegularFile(here) ? ConfigLoader.load(here, env) : ConfigLoader.parse("", Path.of("").toAbsolutePath(), env);
    }

    private static int serveBroker(MailrootConfig config) {
        Thread.setDefaultUncaughtExceptionHandler(FatalErrors.process().uncaughtHandler());
        ClusterBroker broker = new ClusterBroker(config);
        java.util.concurrent.atomic.AtomicBoolean up = new java.util.concurrent.atomic.AtomicBoolean();
        // Ready once this Kafka node has started; whether the quorum stands is for Kafka's own metrics to say.
        ProcessAdmin admin = ProcessAdmin.open(config, () -> up.get() ? List.of() : List.of("Kafka node not started"), false);
        return runUntilStopped(() -> {
            broker.start();
            up.set(true);
            System.out.printf("mailroot: Kafka node %d running on %s:%d; Ctrl-C stops%n", config.broker().nodeId(),
                    config.broker().listenAddress(), config.broker().port());
        }, () -> {
            up.set(false);
            broker.close();
            if (admin != null) {
                admin.close();
            }
        }, config, "broker");
    }

    private interface Start {
        void run() throws Exception;
    }

    /**
     * Starts, writes {@code dataDir/ready} (what the container's health check looks for), and waits for a signal;
     * the file goes before anything stops, so a stopping node is no longer healthy.
     */
    private static int runUntilStopped(Start start, Runnable stop, MailrootConfig config, String what) {
        Path ready = config.dataDir().resolve("ready");
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                Files.deleteIfExists(ready);
            } catch (java.io.IOException e) {
                // the node stops all the same
            }
            stop.run();
            stopped.countDown();
        }, "mailroot-stop"));
        try {
            Files.deleteIfExists(ready);
            start.run();
            Files.createDirectories(ready.getParent());
            Files.writeString(ready, what + "\n");
        } catch (ConfigException e) {
            throw e;
        } catch (Exception e) {
            System.err.println("mailroot: start failed: " + e);
            return 1;
        }
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    private static int serve(MailrootConfig config, List<RoleName> roles) {
        long t0 = System.nanoTime();
        // An Error on any thread (a role's, SMTP's, Kafka's) stops the process for its supervisor to restart.
        Thread.setDefaultUncaughtExceptionHandler(FatalErrors.process().uncaughtHandler());
        MailrootNode node = new MailrootNode(config, roles, null);
        String names = roles.stream().map(RoleName::cliName).toList().toString();
        return runUntilStopped(() -> {
            node.start();
            System.out.printf("mailroot: %s running (%d ms); SMTP on %s; Ctrl-C stops%n", names,
                    (System.nanoTime() - t0) / 1_000_000,
                    config.virtualServers().stream().map(v -> v.addresses() + ":" + v.port()).toList());
        }, node::close, config, names);
    }
}
