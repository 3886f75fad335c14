package io.mailroot.core.config;

/** One row of the README configuration table, recorded as the loader reads the setting. */
public record SettingDoc(String key, String iisName, String defaultValue, String allowed) {
}
