package io.mailroot.ingress;

import org.subethamail.smtp.RejectException;

/**
 * An answer a policy gives the client, e.g. {@code 550 5.7.1 Unable to relay for <bob@example.org>}.
 *
 * @param text the enhanced status code and the human text, without the basic code
 */
public record SmtpReply(int code, String text) {

    public static SmtpReply of(int code, String text) {
        return new SmtpReply(code, text);
    }

    /** SubEthaSMTP sends a rejection as the reply to the command in progress. */
    public RejectException reject() {
        return new RejectException(code, text);
    }

    @Override
    public String toString() {
        return code + " " + text;
    }
}
