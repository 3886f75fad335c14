package io.mailroot.core.config;

import java.util.Map;

/** The README configuration table, made from the same declarations that validate mailroot.yml. */
public final class ConfigTable {

    /** Defaults that depend on the machine are described rather than printed as this machine's values. */
    private static final Map<String, String> DESCRIBED_DEFAULTS = Map.of(
            "fqdn", "the host name",
            "localDomains", "[fqdn, localhost]",
            "kafka.replicationFactor", "1 embedded, 3 external",
            "delivery.maxInFlightMb", "25% of the heap",
            "delivery.hopShards", "kafka.partitions");

    private ConfigTable() {
    }

    public static String markdown() {
        StringBuilder b = new StringBuilder("| IIS 6 setting | key | default | allowed |\n|---|---|---|---|\n");
        for (SettingDoc d : ConfigLoader.documentation()) {
            String def = DESCRIBED_DEFAULTS.getOrDefault(d.key(), d.defaultValue());
            b.append("| ").append(d.iisName()).append(" | `").append(d.key()).append("` | `").append(def)
                    .append("` | ").append(d.allowed()).append(" |\n");
        }
        return b.toString();
    }
}
