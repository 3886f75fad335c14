package io.mailroot.deliverer.smtp;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One reply from the next hop, possibly multi-line.
 *
 * @param lines the text of each line, without the code and separator
 */
public record SmtpReply(int code, List<String> lines) {

    private static final Pattern ENHANCED = Pattern.compile("^([245])\\.(\\d{1,3})\\.(\\d{1,3})(?:\\s|$)");

    public SmtpReply {
        lines = List.copyOf(lines);
    }

    public boolean positive() {
        return code >= 200 && code < 300;
    }

    public boolean transientFailure() {
        return code >= 400 && code < 500;
    }

    public boolean permanentFailure() {
        return code >= 500;
    }

    /** RFC 3463 status from the reply (RFC 2034), or the class alone when the server gave none. */
    public String status() {
        if (!lines.isEmpty()) {
            Matcher m = ENHANCED.matcher(lines.get(0));
            if (m.find() && m.group(1).charAt(0) - '0' == code / 100) {
                return m.group(1) + "." + m.group(2) + "." + m.group(3);
            }
        }
        return (code / 100) + ".0.0";
    }

    /** The reply on one line as a report's Diagnostic-Code shows it, e.g. {@code 550 5.1.1 no such user}. */
    public String text() {
        return code + (lines.isEmpty() ? "" : " " + String.join(" ", lines).strip());
    }

    @Override
    public String toString() {
        return text();
    }
}
