package io.mailroot.deliverer.smtp;

import java.io.IOException;

/** The greeting and the introduction: EHLO, or HELO from a server that does not know EHLO. */
final class Hello {

    private Hello() {
    }

    /** Reads the greeting, then introduces us; a refusal ends the connection politely and is thrown. */
    static Extensions greet(SmtpConnection c, String heloName) throws IOException {
        SmtpReply greeting = c.read();
        if (!greeting.positive()) {
            c.sayGoodbye();
            throw new SmtpRefusedException(c.host(), greeting);
        }
        return introduce(c, heloName);
    }

    /** EHLO (again after STARTTLS); what it announces, or nothing after a HELO. */
    static Extensions introduce(SmtpConnection c, String heloName) throws IOException {
        SmtpReply ehlo = c.command("EHLO " + heloName);
        if (ehlo.positive()) {
            return Extensions.of(ehlo);
        }
        if (ehlo.code() == 421) {
            throw new SmtpRefusedException(c.host(), ehlo);
        }
        SmtpReply helo = c.command("HELO " + heloName);
        if (!helo.positive()) {
            c.sayGoodbye();
            throw new SmtpRefusedException(c.host(), helo);
        }
        return Extensions.NONE;
    }
}
