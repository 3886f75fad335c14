package io.mailroot.core.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A YAML mapping read one typed, validated key at a time. Each read states the IIS name, default and allowed range
 * once, and that one statement both validates the file and feeds the README table (Kafka ConfigDef style).
 * Keys nobody read are reported as unknown, so a typo stops start-up instead of being ignored.
 */
public final class ConfigNode {

    private final String path;
    private final JsonNode node;
    private final Consumer<SettingDoc> docs;
    private final Set<String> read = new LinkedHashSet<>();
    private final List<ConfigNode> children = new ArrayList<>();
    private final boolean documenting;

    public ConfigNode(String path, JsonNode node, Consumer<SettingDoc> docs) {
        this(path, node, docs, false);
    }

    /**
     * @param documenting read for the documentation table: mappings of named entries yield one placeholder entry
     *     so that their settings are listed, and checks of required values are skipped
     */
    public ConfigNode(String path, JsonNode node, Consumer<SettingDoc> docs, boolean documenting) {
        this.documenting = documenting;
        this.path = path;
        this.node = node == null || node.isNull() ? MissingNode.getInstance() : node;
        this.docs = docs;
        if (!this.node.isMissingNode() && !this.node.isObject()) {
            throw ConfigException.invalid(path.isEmpty() ? "(top level)" : path, this.node, "a mapping of keys to values");
        }
    }

    /** True when reading for the documentation table rather than a real configuration. */
    public boolean isDocumenting() {
        return documenting;
    }

    /** The full key of a setting under this node, for error messages. */
    public String keyOf(String name) {
        return key(name);
    }

    private String key(String name) {
        return path.isEmpty() ? name : path + "." + name;
    }

    private JsonNode raw(String name) {
        read.add(name);
        JsonNode v = node.get(name);
        return v == null || v.isNull() ? null : v;
    }

    private boolean present(String name) {
        return node.has(name);
    }

    public ConfigNode child(String name) {
        read.add(name);
        ConfigNode c = new ConfigNode(key(name), node.get(name), docs, documenting);
        children.add(c);
        return c;
    }

    /** Elements of a list of mappings, each as its own node; {@code def} when the key is absent. */
    public List<ConfigNode> children(String name, JsonNode def) {
        JsonNode v = raw(name);
        if (v == null) {
            v = def;
        }
        if (!v.isArray()) {
            throw ConfigException.invalid(key(name), v, "a list");
        }
        List<ConfigNode> list = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            ConfigNode c = new ConfigNode(key(name) + "[" + i + "]", v.get(i), docs, documenting);
            children.add(c);
            list.add(c);
        }
        return list;
    }

    /** A mapping of names to mappings (e.g. forms), each as its own node, keyed by name. */
    /** @param placeholder how the table names an entry, e.g. {@code <relay>} */
    public Map<String, ConfigNode> childMap(String name, String placeholder, String iis, String allowed) {
        doc(name, iis, "{}", allowed);
        JsonNode v = raw(name);
        Map<String, ConfigNode> map = new LinkedHashMap<>();
        if (documenting) {
            map.put(placeholder, new ConfigNode(key(name) + "." + placeholder, null, docs, true));
            return map;
        }
        if (v == null) {
            return map;
        }
        if (!v.isObject()) {
            throw ConfigException.invalid(key(name), v, "a mapping: " + allowed);
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            ConfigNode c = new ConfigNode(key(name) + "." + e.getKey(), e.getValue(), docs, documenting);
            children.add(c);
            map.put(e.getKey(), c);
        }
        return map;
    }

    public String string(String name, String iis, String def, String allowed) {
        doc(name, iis, def == null ? "null" : def, allowed);
        JsonNode v = raw(name);
        if (v == null) {
            return def;
        }
        if (!v.isValueNode()) {
            throw ConfigException.invalid(key(name), v, allowed);
        }
        return v.asText();
    }

    public boolean bool(String name, String iis, boolean def) {
        doc(name, iis, String.valueOf(def), "true, false");
        JsonNode v = raw(name);
        if (v == null) {
            return def;
        }
        if (!v.isBoolean()) {
            throw ConfigException.invalid(key(name), v.asText(), "true or false");
        }
        return v.booleanValue();
    }

    /** An integer in [min, max]; null when the key is absent and {@code def} is null or when the file says null. */
    public Integer integer(String name, String iis, Integer def, int min, int max, boolean nullable) {
        String allowed = min + "–" + max + (nullable ? ", or null (no limit)" : "");
        doc(name, iis, def == null ? "null" : def.toString(), allowed);
        if (!present(name)) {
            read.add(name);
            return def;
        }
        JsonNode v = raw(name);
        if (v == null) {
            if (nullable) {
                return null;
            }
            throw ConfigException.invalid(key(name), "null", min + "–" + max);
        }
        if (!v.canConvertToInt() || !v.isIntegralNumber()) {
            throw ConfigException.invalid(key(name), v.asText(), allowed);
        }
        int n = v.intValue();
        if (n < min || n > max) {
            throw ConfigException.invalid(key(name), n, allowed);
        }
        return n;
    }

    public Duration duration(String name, String iis, Duration def, Duration min, Duration max) {
        String allowed = Durations.format(min) + "–" + Durations.format(max) + " (e.g. 30s, 15m, 12h, 2d)";
        doc(name, iis, Durations.format(def), allowed);
        JsonNode v = raw(name);
        return v == null ? def : durationValue(key(name), v, min, max, allowed);
    }

    public List<Duration> durations(String name, String iis, List<Duration> def, Duration min, Duration max) {
        String allowed = "a list of 1–32 durations, each " + Durations.format(min) + "–" + Durations.format(max);
        doc(name, iis, def.stream().map(Durations::format).toList().toString(), allowed);
        JsonNode v = raw(name);
        if (v == null) {
            return def;
        }
        if (!v.isArray() || v.isEmpty() || v.size() > 32) {
            throw ConfigException.invalid(key(name), v, allowed);
        }
        List<Duration> list = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            list.add(durationValue(key(name) + "[" + i + "]", v.get(i), min, max, allowed));
        }
        return List.copyOf(list);
    }

    private static Duration durationValue(String key, JsonNode v, Duration min, Duration max, String allowed) {
        Duration d = v.isValueNode() ? Durations.parse(v.asText()) : null;
        if (d == null || d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            throw ConfigException.invalid(key, v.asText(), allowed);
        }
        return d;
    }

    public List<String> strings(String name, String iis, List<String> def, String allowed) {
        doc(name, iis, def.toString(), allowed);
        JsonNode v = raw(name);
        if (v == null) {
            return def;
        }
        if (!v.isArray()) {
            throw ConfigException.invalid(key(name), v, "a list: " + allowed);
        }
        List<String> list = new ArrayList<>();
        for (JsonNode e : v) {
            if (!e.isValueNode()) {
                throw ConfigException.invalid(key(name), v, "a list: " + allowed);
            }
            list.add(e.asText());
        }
        return List.copyOf(list);
    }

    public Map<String, String> stringMap(String name, String iis, String allowed) {
        doc(name, iis, "{}", allowed);
        JsonNode v = raw(name);
        if (v == null) {
            return Map.of();
        }
        if (!v.isObject()) {
            throw ConfigException.invalid(key(name), v, "a mapping: " + allowed);
        }
        Map<String, String> map = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            map.put(e.getKey(), e.getValue().asText());
        }
        return map;
    }

    /** A mapping of names to integers in [min, max], each value checked under its own key ({@code name.entry}). */
    public Map<String, Integer> integerMap(String name, String iis, int min, int max, String entry) {
        String allowed = entry + ", each " + min + "–" + max;
        doc(name, iis, "{}", allowed);
        JsonNode v = raw(name);
        if (v == null) {
            return Map.of();
        }
        if (!v.isObject()) {
            throw ConfigException.invalid(key(name), v, "a mapping: " + allowed);
        }
        Map<String, Integer> map = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode n = e.getValue();
            if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < min || n.intValue() > max) {
                throw ConfigException.invalid(key(name) + "." + e.getKey(), n.asText(), min + "–" + max);
            }
            map.put(e.getKey(), n.intValue());
        }
        return map;
    }

    /** Applies a check to a value already read, failing with the standard message. */
    public <T> T check(String name, T value, Function<T, Boolean> ok, String allowed) {
        if (!documenting && value != null && !ok.apply(value)) {
            throw ConfigException.invalid(key(name), value, allowed);
        }
        return value;
    }

    private void doc(String name, String iis, String def, String allowed) {
        docs.accept(new SettingDoc(key(name).replaceAll("\\[\\d+]", "[]"), iis, def, allowed));
    }

    /** Fails on the first key in this node or its children that no reader asked for. */
    public void rejectUnknown() {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (!read.contains(name)) {
                throw new ConfigException(key(name), "unknown configuration key '" + key(name) + "'");
            }
        }
        children.forEach(ConfigNode::rejectUnknown);
    }
}
