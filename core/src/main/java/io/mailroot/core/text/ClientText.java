package io.mailroot.core.text;

/**
 * Text a client chose (a HELO name, an address, an AUTH user name, a file name), made safe to show: in a log line a
 * CR or LF would let the client forge log entries, and in an SMTP reply a control byte or an overlong line breaks the
 * protocol. One place decides how such text is shown, for every role.
 */
public final class ClientText {

    /** What a reply may quote of client text; the whole reply line must stay within RFC 5321's 512 octets. */
    public static final int MAX_IN_REPLY = 64;

    private ClientText() {
    }

    /**
     * For a log line: printable characters kept (non-ASCII letters too, so a UTF-8 address stays readable), CR, LF,
     * TAB and backslash written as {@code \r \n \t \\}, any other control character as {@code \xHH} or {@code \\uHHHH}.
     * Nothing is lost, so the log still tells exactly what was sent.
     */
    public static String forLog(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            String escaped = escape(c);
            if (escaped != null && b == null) {
                b = new StringBuilder(s.length() + 16).append(s, 0, i);
            }
            if (b != null) {
                if (escaped != null) {
                    b.append(escaped);
                } else {
                    b.append(c);
                }
            }
        }
        return b == null ? s : b.toString();
    }

    /**
     * For an SMTP reply: visible ASCII only (anything else, space included, becomes {@code ?}), at most
     * {@link #MAX_IN_REPLY} characters, then {@code ...}.
     */
    public static String forReply(String s) {
        if (s == null) {
            return "";
        }
        int n = Math.min(s.length(), MAX_IN_REPLY);
        StringBuilder b = new StringBuilder(n + 3);
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            b.append(c > 0x20 && c < 0x7F ? c : '?');
        }
        if (s.length() > MAX_IN_REPLY) {
            b.append("...");
        }
        return b.toString();
    }

    private static String escape(char c) {
        switch (c) {
            case '\r':
                return "\\r";
            case '\n':
                return "\\n";
            case '\t':
                return "\\t";
            case '\\':
                return "\\\\";
            default:
                break;
        }
        if (c < 0x20 || c == 0x7F) {
            return String.format("\\x%02X", (int) c);
        }
        if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029' || Character.getType(c) == Character.FORMAT) {
            return String.format("\\u%04X", (int) c);
        }
        return null;
    }
}
