package io.mailroot.core.config;

/** A configuration value that Mailroot will not start with; the message names the key, the value and what is allowed. */
public class ConfigException extends RuntimeException {

    private final String key;

    public ConfigException(String message) {
        this(null, message);
    }

    /** @param key the configuration key the message is about, as written in messages ({@code virtualServers[0].port}) */
    public ConfigException(String key, String message) {
        super(message);
        this.key = key;
    }

    public static ConfigException invalid(String key, Object value, String allowed) {
        return new ConfigException(key, "configuration key '" + key + "' has value '" + value + "'; allowed: " + allowed);
    }

    /** The key the message is about, or null when it is about no one key. */
    public String key() {
        return key;
    }
}
