package io.mailroot.deliverer.smtp;

import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What the server said it supports in its EHLO reply (RFC 5321 4.1.1.1): the keywords, the AUTH mechanisms and the
 * SIZE limit. After HELO there are none.
 *
 * @param sizeLimit the announced SIZE limit, 0 when none
 */
record Extensions(Set<String> keywords, Set<String> authMechanisms, long sizeLimit) {

    static final Extensions NONE = new Extensions(Set.of(), Set.of(), 0);

    Extensions {
        keywords = Set.copyOf(keywords);
        authMechanisms = Set.copyOf(authMechanisms);
    }

    /** The extensions a positive EHLO reply lists, one per line after the first. */
    static Extensions of(SmtpReply ehlo) {
        Set<String> keywords = new HashSet<>();
        Set<String> auth = new HashSet<>();
        long size = 0;
        List<String> lines = ehlo.lines();
        for (String line : lines.subList(1, lines.size())) {
            String[] words = line.trim().split("\\s+");
            String keyword = words[0].toUpperCase(Locale.ROOT);
            keywords.add(keyword);
            if (keyword.equals("AUTH") || keyword.startsWith("AUTH=")) {
                // Old servers announce "AUTH=LOGIN PLAIN"; some only that way.
                if (keyword.length() > 5) {
                    auth.add(keyword.substring(5));
                }
                for (int i = 1; i < words.length; i++) {
                    auth.add(words[i].toUpperCase(Locale.ROOT));
                }
            }
            if (keyword.equals("SIZE") && words.length > 1) {
                try {
                    size = Long.parseLong(words[1]);
                } catch (NumberFormatException ignored) {
                    // a malformed SIZE limit only means we do not know it
                }
            }
        }
        return new Extensions(keywords, auth, size);
    }

    boolean supports(String extension) {
        return keywords.contains(extension.toUpperCase(Locale.ROOT));
    }
}
