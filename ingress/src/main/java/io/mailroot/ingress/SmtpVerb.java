package io.mailroot.ingress;

import java.io.IOException;
import java.util.StringTokenizer;
import org.subethamail.smtp.DropConnectionException;
import org.subethamail.smtp.server.Session;

/**
 * One SMTP command as Mailroot answers it, written against SubEthaSMTP's public API only ({@link Session}).
 * {@link SmtpCommands} alone adapts it to the library's internal command interface, so an upgrade that changes
 * that interface breaks one class, at compile time.
 */
public interface SmtpVerb {

    /** The verb, upper case, e.g. {@code MAIL}. */
    String verb();

    /** Answers {@code commandLine} (the whole line, CRLF excluded), which starts with the verb. */
    void execute(String commandLine, Session session) throws IOException, DropConnectionException;

    /** The words of a command line, split at white space. */
    static String[] words(String commandLine) {
        StringTokenizer t = new StringTokenizer(commandLine);
        String[] words = new String[t.countTokens()];
        for (int i = 0; i < words.length; i++) {
            words[i] = t.nextToken();
        }
        return words;
    }
}
