package io.mailroot.ingress;

import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.Recipient;
import io.mailroot.core.text.ClientText;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.subethamail.smtp.RejectException;

/**
 * The ESMTP parameters after a MAIL or RCPT path (RFC 1870 SIZE, RFC 6152 BODY, RFC 3461 DSN, RFC 4954 AUTH).
 * Anything else gets {@code 555 5.5.4}: a client must not think we honour a parameter we ignore.
 */
final class EsmtpParameters {

    private static final int MAX_ENVID = 100;
    private static final int MAX_ORCPT = 500;

    private EsmtpParameters() {
    }

    /**
     * @param size the SIZE the client declared, or -1
     * @param envId the ENVID, xtext-decoded, or null
     * @param ret RET, or null when not given
     */
    record Mail(long size, String envId, Envelope.Ret ret) {
        static final Mail NONE = new Mail(-1, null, null);
    }

    /**
     * @param notifyOn the NOTIFY conditions, empty when not given
     * @param orcpt {@code addr-type;address} with the address xtext-decoded, or null
     */
    record Rcpt(Set<Recipient.Notify> notifyOn, String orcpt) {
        static final Rcpt NONE = new Rcpt(Set.of(), null);
    }

    static Mail mail(String parameters) throws RejectException {
        long size = -1;
        String envId = null;
        Envelope.Ret ret = null;
        for (Parameter parameter : parse(parameters)) {
            String key = parameter.key();
            String value = parameter.value();
            switch (key) {
                case "SIZE" -> {
                    if (value == null || !value.matches("[0-9]{1,18}")) {
                        throw bad("Bad SIZE value");
                    }
                    size = Long.parseLong(value);
                }
                case "BODY" -> {
                    if (value == null || !(value.equalsIgnoreCase("7BIT") || value.equalsIgnoreCase("8BITMIME"))) {
                        throw bad("BODY must be 7BIT or 8BITMIME");
                    }
                }
                case "RET" -> {
                    if ("FULL".equalsIgnoreCase(value)) {
                        ret = Envelope.Ret.FULL;
                    } else if ("HDRS".equalsIgnoreCase(value)) {
                        ret = Envelope.Ret.HDRS;
                    } else {
                        throw bad("RET must be FULL or HDRS");
                    }
                }
                case "ENVID" -> {
                    envId = xtext(value, "ENVID");
                    if (envId.length() > MAX_ENVID) {
                        throw bad("ENVID too long");
                    }
                }
                // RFC 4954 section 5: a server that does not trust the claimed submitter may ignore it
                case "AUTH" -> {
                    if (value == null || !value.equals("<>")) {
                        xtext(value, "AUTH");
                    }
                }
                default -> throw unknown(key);
            }
        }
        return new Mail(size, envId, ret);
    }

    static Rcpt rcpt(String parameters) throws RejectException {
        Set<Recipient.Notify> notify = EnumSet.noneOf(Recipient.Notify.class);
        String orcpt = null;
        for (Parameter parameter : parse(parameters)) {
            String key = parameter.key();
            String value = parameter.value();
            switch (key) {
                case "NOTIFY" -> notify = notify(value);
                case "ORCPT" -> {
                    int semi = value == null ? -1 : value.indexOf(';');
                    if (semi <= 0 || !value.substring(0, semi).matches("[A-Za-z0-9][A-Za-z0-9-]*")) {
                        throw bad("ORCPT must be addr-type;xtext");
                    }
                    orcpt = value.substring(0, semi).toLowerCase(Locale.ROOT) + ";" + xtext(value.substring(semi + 1), "ORCPT");
                    if (orcpt.length() > MAX_ORCPT) {
                        throw bad("ORCPT too long");
                    }
                }
                default -> throw unknown(key);
            }
        }
        return new Rcpt(Set.copyOf(notify), orcpt);
    }

    private static Set<Recipient.Notify> notify(String value) throws RejectException {
        if (value == null || value.isEmpty()) {
            throw bad("NOTIFY needs a value");
        }
        Set<Recipient.Notify> notify = EnumSet.noneOf(Recipient.Notify.class);
        for (String v : value.split(",", -1)) {
            try {
                notify.add(Recipient.Notify.valueOf(v.toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw bad("NOTIFY must be NEVER or a list of SUCCESS, FAILURE, DELAY");
            }
        }
        if (notify.contains(Recipient.Notify.NEVER) && notify.size() > 1) {
            throw bad("NOTIFY=NEVER cannot be combined");
        }
        return notify;
    }

    /** RFC 3461 xtext: printable ASCII but {@code +} and {@code =}, with {@code +XX} hex escapes. */
    static String xtext(String value, String name) throws RejectException {
        if (value == null || value.isEmpty()) {
            throw bad(name + " needs a value");
        }
        StringBuilder b = new StringBuilder(value.length());
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '+') {
                if (i + 2 >= value.length()) {
                    throw bad("Bad xtext in " + name);
                }
                String hex = value.substring(i + 1, i + 3);
                if (!hex.matches("[0-9A-F]{2}")) {
                    throw bad("Bad xtext in " + name);
                }
                b.append((char) Integer.parseInt(hex, 16));
                i += 2;
            } else if (c >= 33 && c <= 126 && c != '=') {
                b.append(c);
            } else {
                throw bad("Bad xtext in " + name);
            }
        }
        return b.toString();
    }

    /** One {@code KEY[=value]}; the key upper-cased, the value null when absent. */
    private record Parameter(String key, String value) {
    }

    /** The parameters in order; a key given twice is refused, as RFC 5321 section 4.1.2 allows only one of each. */
    private static List<Parameter> parse(String parameters) throws RejectException {
        List<Parameter> list = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (String p : split(parameters)) {
            int eq = p.indexOf('=');
            String key = (eq < 0 ? p : p.substring(0, eq)).toUpperCase(Locale.ROOT);
            if (!seen.add(key)) {
                throw bad("Duplicate parameter " + ClientText.forReply(key));
            }
            list.add(new Parameter(key, eq < 0 ? null : p.substring(eq + 1)));
        }
        return list;
    }

    private static String[] split(String parameters) {
        String p = parameters.strip();
        return p.isEmpty() ? new String[0] : p.split(" +");
    }

    private static RejectException bad(String why) {
        return SmtpReply.of(501, "5.5.4 " + why).reject();
    }

    private static RejectException unknown(String key) {
        return SmtpReply.of(555, "5.5.4 Unsupported parameter " + ClientText.forReply(key)).reject();
    }
}
