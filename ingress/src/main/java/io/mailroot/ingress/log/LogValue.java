package io.mailroot.ingress.log;

import java.nio.charset.StandardCharsets;

/**
 * How a value is written into a text log: {@code -} when there is none, a space as {@code +} (the IIS convention,
 * so a line splits on spaces), and every octet that could break the line's grammar or a terminal (controls,
 * non-ASCII, {@code %} itself and the format's own separators) as {@code %XX} of its UTF-8.
 */
final class LogValue {

    private LogValue() {
    }

    static String of(String value, String separators) {
        if (value == null || value.isEmpty()) {
            return "-";
        }
        StringBuilder b = new StringBuilder(value.length());
        for (byte o : value.getBytes(StandardCharsets.UTF_8)) {
            int c = o & 0xFF;
            if (c == ' ') {
                b.append('+');
            } else if (c < 0x21 || c > 0x7E || c == '%' || separators.indexOf(c) >= 0) {
                b.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xF, 16)));
            } else {
                b.append((char) c);
            }
        }
        return b.toString();
    }
}
