package io.mailroot.core.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Settings given as {@code MAILROOT_*} environment variables, as containers are configured. Each value is laid over
 * the YAML tree before the tree is read, so a value from the environment is validated by the same declarations and
 * refused with the same message as one from the file; the message then also names the variable.
 *
 * <p>The names come from {@link ConfigLoader#documentation()}, so every new key gets a variable without a line here:
 * {@code delivery.maxConnectionsPerDomain} is {@code MAILROOT_DELIVERY_MAX_CONNECTIONS_PER_DOMAIN}, and elements of a
 * list of mappings are numbered, {@code virtualServers[0].port} is {@code MAILROOT_VIRTUAL_SERVERS_0_PORT}.
 * Mappings with free keys (route domains, relays, forms) are given whole, as one YAML mapping.
 */
public final class EnvironmentSettings {

    public static final String PREFIX = "MAILROOT_";
    /** The configuration file when {@code --config} is not given; read by the launcher. */
    public static final String CONFIG_FILE = "MAILROOT_CONFIG";
    /** Variables the launcher reads itself. They name no setting, and a setting must never be named like them. */
    public static final Set<String> LAUNCHER_VARIABLES = Set.of(CONFIG_FILE, "MAILROOT_JAVA_OPTS");

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    /** Stands for a list index in a key ({@code virtualServers[].port}) and in the name made from it. */
    private static final String INDEX = "[]";
    private static final Pattern CAMEL = Pattern.compile("(?<=[a-z0-9])(?=[A-Z])");

    /** One setting's variable: the key's path, with {@link #INDEX} where the name carries a number. */
    record Variable(String key, List<String> path, Pattern name) {
    }

    /** One variable found in the environment: which key it sets (indexes filled in) and the value it gives. */
    private record Assignment(String variable, List<String> path, JsonNode value) {
        List<Integer> indexes() {
            List<Integer> indexes = new ArrayList<>();
            for (String p : path) {
                if (p.startsWith("[")) {
                    indexes.add(Integer.parseInt(p.substring(1, p.length() - 1)));
                }
            }
            return indexes;
        }

        String key() {
            return keyOf(path);
        }
    }

    private final List<Assignment> assignments;
    /** Which variable set which key, as keys appear in messages ({@code virtualServers[1].port}). */
    private final Map<String, String> variableByKey = new LinkedHashMap<>();

    private EnvironmentSettings(List<Assignment> assignments) {
        this.assignments = assignments;
        assignments.forEach(a -> variableByKey.put(a.key(), a.variable()));
    }

    /**
     * Reads the {@code MAILROOT_*} variables of {@code env}; one that names no setting stops start-up as an unknown
     * key in the file does. Other variables are ignored.
     */
    public static EnvironmentSettings from(Map<String, String> env) {
        List<Assignment> found = new ArrayList<>();
        for (String name : new TreeSet<>(env.keySet())) {
            if (!name.startsWith(PREFIX) || LAUNCHER_VARIABLES.contains(name)) {
                continue;
            }
            List<String> path = resolve(name);
            if (path == null) {
                throw new ConfigException("unknown environment variable '" + name + "': it names no setting (the names"
                        + " are the keys of './mailroot config' in upper case with '_', e.g. MAILROOT_KAFKA_BOOTSTRAP);"
                        + " the launcher's own are " + new TreeSet<>(LAUNCHER_VARIABLES));
            }
            found.add(new Assignment(name, path, value(name, env.get(name))));
        }
        // Lower indexes first, so that MAILROOT_VIRTUAL_SERVERS_1_* may add the element after one _0_ added.
        found.sort(Comparator.comparing(Assignment::indexes, EnvironmentSettings::compareIndexes)
                .thenComparing(Assignment::variable));
        return new EnvironmentSettings(found);
    }

    /** Every setting's variable, in the order of the documentation; a {@code []} in the key is a number in the name. */
    static List<Variable> variables() {
        return Table.VARIABLES;
    }

    /** The variable for a documented key, with {@code <i>} where a list index goes. */
    static String variableName(String key) {
        StringBuilder b = new StringBuilder(PREFIX.substring(0, PREFIX.length() - 1));
        for (String part : path(key)) {
            b.append('_').append(part.equals(INDEX) ? "<i>" : CAMEL.matcher(part).replaceAll("_").toUpperCase(Locale.ROOT));
        }
        return b.toString();
    }

    /** The key's parts: {@code virtualServers[].port} is {@code virtualServers}, {@code []}, {@code port}. */
    private static List<String> path(String key) {
        List<String> parts = new ArrayList<>();
        for (String dotted : key.split("\\.")) {
            String name = dotted;
            int indexes = 0;
            while (name.endsWith(INDEX)) {
                name = name.substring(0, name.length() - INDEX.length());
                indexes++;
            }
            parts.add(name);
            for (int i = 0; i < indexes; i++) {
                parts.add(INDEX);
            }
        }
        return parts;
    }

    private static String keyOf(List<String> path) {
        StringBuilder b = new StringBuilder();
        for (String p : path) {
            if (!p.startsWith("[") && !b.isEmpty()) {
                b.append('.');
            }
            b.append(p);
        }
        return b.toString();
    }

    /** The path a variable sets, with indexes as {@code [3]}, or null when it names no setting. */
    private static List<String> resolve(String name) {
        for (Variable v : variables()) {
            Matcher m = v.name().matcher(name);
            if (m.matches()) {
                List<String> path = new ArrayList<>();
                int group = 1;
                for (String p : v.path()) {
                    path.add(p.equals(INDEX) ? "[" + m.group(group++) + "]" : p);
                }
                return path;
            }
        }
        return null;
    }

    /** A value is written as in the file: {@code 12}, {@code true}, {@code null}, {@code [a, b]}, {@code {x: y}}. */
    private static JsonNode value(String variable, String text) {
        try {
            JsonNode v = text.isBlank() ? null : YAML.readTree(text);
            return v == null || v.isMissingNode() ? NullNode.getInstance() : v;
        } catch (IOException e) {
            throw new ConfigException("environment variable " + variable + " is not a YAML value (quote text that holds"
                    + " YAML punctuation, e.g. \"a: b\"): " + e.getMessage());
        }
    }

    /** The tree with every variable's value in place, replacing what the file said; the file's tree is left as it was. */
    public JsonNode overlay(JsonNode fileRoot) {
        if (assignments.isEmpty()) {
            return fileRoot;
        }
        if (fileRoot != null && !fileRoot.isNull() && !fileRoot.isObject()) {
            return fileRoot; // not a mapping: the reader refuses the file as it stands
        }
        checkIndexes(fileRoot);
        ObjectNode root = fileRoot instanceof ObjectNode o ? o.deepCopy() : JsonNodeFactory.instance.objectNode();
        for (Assignment a : assignments) {
            set(root, a);
        }
        return root;
    }

    /**
     * Walks to the value's place, making mappings and the next list element on the way. Where the file holds
     * something else than a mapping or a list on the way, the value is left out: the reader refuses that part of
     * the file with its usual message whatever the environment says.
     */
    private static void set(ObjectNode root, Assignment a) {
        JsonNode at = root;
        List<String> path = a.path();
        for (int i = 0; i < path.size() - 1; i++) {
            String part = path.get(i);
            boolean nextIsIndex = path.get(i + 1).startsWith("[");
            JsonNode next = child(at, part);
            if (next == null || next.isNull()) {
                next = nextIsIndex ? JsonNodeFactory.instance.arrayNode() : JsonNodeFactory.instance.objectNode();
                put(at, part, next);
            } else if (nextIsIndex ? !next.isArray() : !next.isObject()) {
                return;
            }
            at = next;
        }
        put(at, path.get(path.size() - 1), a.value());
    }

    private static JsonNode child(JsonNode parent, String part) {
        if (!part.startsWith("[")) {
            return parent.get(part);
        }
        return parent.get(index(part));
    }

    private static void put(JsonNode parent, String part, JsonNode value) {
        if (parent instanceof ObjectNode o) {
            o.set(part, value);
            return;
        }
        ArrayNode list = (ArrayNode) parent;
        int i = index(part);
        if (i < list.size()) {
            list.set(i, value);
        } else {
            list.add(value);
        }
    }

    private static int index(String part) {
        return Integer.parseInt(part.substring(1, part.length() - 1));
    }

    /** Refuses an index that would leave a gap in a list: one past the end adds an element, further is a mistake. */
    private void checkIndexes(JsonNode fileRoot) {
        Map<String, Integer> sizes = new LinkedHashMap<>();
        for (Assignment a : assignments) {
            List<String> path = a.path();
            for (int i = 0; i < path.size(); i++) {
                if (!path.get(i).startsWith("[")) {
                    continue;
                }
                List<String> listPath = path.subList(0, i);
                String listKey = keyOf(listPath);
                int size = sizes.computeIfAbsent(listKey, k -> sizeOf(fileRoot, listPath));
                int index = index(path.get(i));
                if (index > size) {
                    throw new ConfigException(listKey, "environment variable " + a.variable() + " sets element " + index
                            + " of '" + listKey + "', which has " + size + (size == 1 ? " element" : " elements")
                            + "; allowed: indexes 0–" + size + " (" + size + " adds an element)");
                }
                if (index == size) {
                    sizes.put(listKey, size + 1);
                }
            }
        }
    }

    private static int sizeOf(JsonNode root, List<String> path) {
        JsonNode at = root;
        for (String part : path) {
            at = at == null ? null : child(at, part);
        }
        if (at == null || at.isNull()) {
            return 0;
        }
        // Not a list: the reader refuses the file's value, which is the message to give.
        return at.isArray() ? at.size() : Integer.MAX_VALUE;
    }

    /** The same refusal, naming the variable when the key it is about, or a mapping or list holding it, came from one. */
    public ConfigException attribute(ConfigException e) {
        String key = e.key();
        if (key == null || variableByKey.isEmpty()) {
            return e;
        }
        for (Map.Entry<String, String> set : variableByKey.entrySet()) {
            String k = set.getKey();
            if (key.equals(k) || key.startsWith(k + ".") || key.startsWith(k + "[")
                    || key.contains(INDEX) && key.equals(k.replaceAll("\\[\\d+]", INDEX))) {
                ConfigException named = new ConfigException(key, e.getMessage() + " (from " + set.getValue() + ")");
                named.setStackTrace(e.getStackTrace());
                return named;
            }
        }
        return e;
    }

    private static int compareIndexes(List<Integer> a, List<Integer> b) {
        for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
            int c = Integer.compare(a.get(i), b.get(i));
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(a.size(), b.size());
    }

    /** Made once, on first use: reading the documentation resolves the host name for the fqdn default. */
    private static final class Table {
        static final List<Variable> VARIABLES = build();

        private static List<Variable> build() {
            List<Variable> list = new ArrayList<>();
            for (SettingDoc d : ConfigLoader.documentation()) {
                if (d.key().contains("<")) {
                    continue; // an entry of a mapping with free keys; the mapping is given whole
                }
                List<String> path = path(d.key());
                String regex = Pattern.quote(variableName(d.key())).replace("<i>", "\\E(0|[1-9][0-9]{0,5})\\Q");
                list.add(new Variable(d.key(), path, Pattern.compile(regex)));
            }
            return List.copyOf(list);
        }
    }
}
