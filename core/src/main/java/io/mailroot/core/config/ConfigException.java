package io.mailroot.core.config;

/** A configuration value that Mailroot will not start with; the message names the key, the value and what is allowed. */
public class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }

    public static ConfigException invalid(String key, Object value, String allowed) {
        return new ConfigException("configuration key '" + key + "' has value '" + value + "'; allowed: " + allowed);
    }
}
