package io.mailroot.ingress;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Refuses forward paths that are not {@code local@domain}: nothing downstream could route them. {@code postmaster}
 * without a domain (RFC 5321 section 4.5.1) passes: it is queued as {@code postmaster@fqdn}.
 */
public final class RecipientSyntax implements RecipientPolicy {

    private static final Pattern ATOM_TEXT = Pattern.compile("[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+");
    private static final Pattern DOT_ATOM = Pattern.compile(ATOM_TEXT.pattern() + "(\\." + ATOM_TEXT.pattern() + ")*");
    private static final Pattern QUOTED = Pattern.compile("\"([\\x20\\x21\\x23-\\x5B\\x5D-\\x7E]|\\\\[\\x20-\\x7E])*\"");
    private static final Pattern LABEL = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?");
    private static final Pattern DOMAIN = Pattern.compile(LABEL.pattern() + "(\\." + LABEL.pattern() + ")*\\.?");
    private static final Pattern ADDRESS_LITERAL = Pattern.compile("\\[[A-Za-z0-9:.]+]");

    /** Whether {@code address} is a usable mailbox: a dot-atom or quoted local part, an @, and a domain. */
    public static boolean valid(String address) {
        int at = address.lastIndexOf('@');
        if (at <= 0 || at == address.length() - 1 || address.length() > 254) {
            return false;
        }
        String local = address.substring(0, at);
        String domain = address.substring(at + 1);
        return local.length() <= 64
                && (DOT_ATOM.matcher(local).matches() || QUOTED.matcher(local).matches())
                && (DOMAIN.matcher(domain).matches() || ADDRESS_LITERAL.matcher(domain).matches());
    }

    @Override
    public Optional<SmtpReply> check(Client client, String recipient, int accepted) {
        return valid(recipient) || MailboxAddress.isDomainlessPostmaster(recipient) ? Optional.empty()
                : Optional.of(SmtpReply.of(501, "5.1.3 Bad recipient address syntax: <" + recipient + ">"));
    }
}
