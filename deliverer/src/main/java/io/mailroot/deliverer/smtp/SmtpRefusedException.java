package io.mailroot.deliverer.smtp;

import java.io.IOException;

/** The next hop answered but will not talk to us (greeting or EHLO/HELO refused). */
public final class SmtpRefusedException extends IOException {

    private final SmtpReply reply;

    public SmtpRefusedException(String host, SmtpReply reply) {
        super(host + " refused the session: " + reply.text());
        this.reply = reply;
    }

    public SmtpReply reply() {
        return reply;
    }
}
