package io.mailroot.ingress;

import org.subethamail.smtp.RejectException;

/**
 * The argument of MAIL and RCPT split into the path (inside the angle brackets) and the ESMTP parameters after it,
 * e.g. {@code FROM:<"odd >name"@a.test> SIZE=10} into {@code "odd >name"@a.test} and {@code SIZE=10}. The path is
 * found by scanning, so a {@code >} inside a quoted local part does not end it.
 */
record PathArgument(String path, String parameters) {

    /**
     * @param verb {@code MAIL} or {@code RCPT}
     * @param keyword {@code FROM:} or {@code TO:}
     */
    static PathArgument parse(String commandString, String verb, String keyword) throws RejectException {
        String syntax = "5.5.4 Syntax: " + verb + " " + keyword + "<address> [parameters]";
        if (commandString.length() <= verb.length() || commandString.charAt(verb.length()) != ' ') {
            throw SmtpReply.of(501, syntax).reject();
        }
        String rest = commandString.substring(verb.length()).stripLeading();
        if (!rest.regionMatches(true, 0, keyword, 0, keyword.length())) {
            throw SmtpReply.of(501, syntax).reject();
        }
        // Many clients put a space after the colon; RFC 5321 does not, but nothing is gained by refusing it.
        rest = rest.substring(keyword.length()).stripLeading();
        String path;
        String after;
        if (rest.startsWith("<")) {
            int end = closingBracket(rest);
            if (end < 0) {
                throw SmtpReply.of(501, syntax).reject();
            }
            path = rest.substring(1, end);
            after = rest.substring(end + 1);
        } else {
            // IIS and most MTAs take a path without brackets; it cannot hold a space, so it ends at the first one.
            int space = rest.indexOf(' ');
            path = space < 0 ? rest : rest.substring(0, space);
            after = space < 0 ? "" : rest.substring(space);
            if (path.isEmpty() || path.indexOf('>') >= 0) {
                throw SmtpReply.of(501, syntax).reject();
            }
        }
        if (!after.isEmpty() && after.charAt(0) != ' ') {
            throw SmtpReply.of(501, syntax).reject();
        }
        return new PathArgument(path, after.strip());
    }

    private static int closingBracket(String s) {
        boolean quoted = false;
        for (int i = 1; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quoted && c == '\\') {
                i++;
            } else if (c == '"') {
                quoted = !quoted;
            } else if (c == '>' && !quoted) {
                return i;
            } else if (c == '<' && !quoted) {
                return -1;
            }
        }
        return -1;
    }
}
