package io.mailroot.launcher;

import io.mailroot.core.config.ConfigException;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.role.Role;
import io.mailroot.deliverer.DelivererRole;
import io.mailroot.deliverer.RetryRole;
import io.mailroot.deliverer.local.DropWriterRole;
import io.mailroot.ingress.IngressRole;
import io.mailroot.ingress.http.HttpSubmissionRole;
import io.mailroot.ingress.pickup.PickupRole;
import io.mailroot.ndr.NdrRole;
import io.mailroot.queue.QueueViewRole;
import io.mailroot.router.RouterRole;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** The roles {@code mailroot run} accepts, in the order they are started (consumers before producers). */
public enum RoleName {
    QUEUE, NDR, DROP, RETRY, DELIVERER, ROUTER, PICKUP, HTTP, INGRESS;

    public Role create(MailrootConfig config, KafkaClients clients, Topics topics) {
        return switch (this) {
            case INGRESS -> new IngressRole(config, clients, topics);
            case PICKUP -> new PickupRole(config, clients, topics);
            case HTTP -> new HttpSubmissionRole(config, clients, topics);
            case ROUTER -> new RouterRole(config, clients, topics);
            case DELIVERER -> new DelivererRole(config, clients, topics);
            case RETRY -> new RetryRole(config, clients, topics);
            case DROP -> new DropWriterRole(config, clients, topics);
            case NDR -> new NdrRole(config, clients, topics);
            case QUEUE -> new QueueViewRole(config, clients, topics);
        };
    }

    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static RoleName parse(String s) {
        for (RoleName r : values()) {
            if (r.cliName().equals(s.toLowerCase(Locale.ROOT))) {
                return r;
            }
        }
        throw new ConfigException("unknown role '" + s + "'; roles are: "
                + String.join(", ", Arrays.stream(values()).map(RoleName::cliName).toList()));
    }

    public static List<RoleName> all() {
        return List.of(values());
    }
}
