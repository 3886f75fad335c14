package io.mailroot.deliverer.smtp;

import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.Recipient;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * One mail transaction: (RSET,) MAIL, RCPT for each recipient, DATA; with PIPELINING (RFC 2920) RSET, MAIL and every
 * RCPT go out in one write and their replies are read in order. The outcome has one reply per recipient, in order:
 * the RCPT refusal for refused ones, the final DATA reply for accepted ones, or the error that broke the connection.
 */
final class PipelinedTransaction {

    /**
     * @param replies one per recipient
     * @param refusal the temporary reply that refused the transaction as a whole (MAIL, DATA or the end of the data),
     *     or null: unlike a refused recipient, that is about this host, and another MX may do better
     * @param connectionLost the connection broke, timed out or the server said 421: it must not be reused
     */
    record Outcome(List<RecipientReply> replies, SmtpReply refusal, boolean connectionLost) {
    }

    private final SmtpConnection c;
    private final Extensions ext;
    private final List<Recipient> recipients;
    private final RecipientReply[] results;
    private SmtpReply refusal;
    private boolean lost;

    private PipelinedTransaction(SmtpConnection c, Extensions ext, List<Recipient> recipients, boolean lost) {
        this.c = c;
        this.ext = ext;
        this.recipients = recipients;
        this.results = new RecipientReply[recipients.size()];
        this.lost = lost;
    }

    /**
     * Runs the transaction; never throws for the server's or the network's failures: those are the outcome.
     *
     * @param reset whether an RSET goes first (some servers keep state after a refused DATA)
     * @param closing whether the server already said it is closing (then no DATA is tried)
     */
    static Outcome run(SmtpConnection c, Extensions ext, boolean reset, boolean closing, Envelope envelope,
                       List<Recipient> recipients, byte[] message) {
        PipelinedTransaction t = new PipelinedTransaction(c, ext, recipients, closing);
        List<RecipientReply> replies = t.send(reset, envelope, message);
        return new Outcome(replies, t.refusal, t.lost);
    }

    private List<RecipientReply> send(boolean reset, Envelope envelope, byte[] message) {
        String stage = "MAIL FROM";
        try {
            SmtpReply mail;
            List<SmtpReply> rcpt = new ArrayList<>();
            if (ext.supports("PIPELINING")) {
                if (reset) {
                    c.writeLine("RSET");
                }
                c.writeLine(MailCommands.mailFrom(ext, envelope, message));
                for (Recipient r : recipients) {
                    c.writeLine(MailCommands.rcptTo(ext, r));
                }
                c.flush();
                if (reset) {
                    stage = "RSET";
                    noteClosing(c.read());
                }
                stage = "MAIL FROM";
                mail = c.read();
                stage = "RCPT TO";
                for (int i = 0; i < recipients.size(); i++) {
                    rcpt.add(c.read());
                }
            } else {
                if (reset) {
                    stage = "RSET";
                    SmtpReply rset = c.command("RSET");
                    if (!rset.positive()) {
                        lost = true;
                        return fillLost(c.host() + " refused " + stage + ": " + rset.text());
                    }
                }
                stage = "MAIL FROM";
                mail = c.command(MailCommands.mailFrom(ext, envelope, message));
                stage = "RCPT TO";
                if (mail.positive()) {
                    for (Recipient r : recipients) {
                        rcpt.add(c.command(MailCommands.rcptTo(ext, r)));
                    }
                }
            }
            if (!mail.positive()) {
                refusedAsAWhole(mail);
                noteClosing(mail);
                return fillReply(mail);
            }
            boolean anyAccepted = false;
            for (int i = 0; i < results.length; i++) {
                SmtpReply r = rcpt.get(i);
                if (r.positive()) {
                    anyAccepted = true;
                } else {
                    results[i] = RecipientReply.replied(recipients.get(i).address(), r);
                    noteClosing(r);
                }
            }
            if (!anyAccepted || lost) {
                return fillLost("the server closed the transaction");
            }
            stage = "DATA";
            SmtpReply data = c.command("DATA");
            if (data.code() != 354) {
                refusedAsAWhole(data);
                noteClosing(data);
                return fillReply(data);
            }
            stage = "end of data";
            c.writeData(message);
            c.flush();
            SmtpReply end = c.read();
            refusedAsAWhole(end);
            noteClosing(end);
            return fillReply(end);
        } catch (IOException e) {
            lost = true;
            c.close();
            return fillLost("lost connection with " + c.host() + " while sending " + stage + ": "
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
        }
    }

    private void refusedAsAWhole(SmtpReply reply) {
        if (reply.transientFailure()) {
            refusal = reply;
        }
    }

    private void noteClosing(SmtpReply reply) {
        if (reply.code() == 421) {
            lost = true;
        }
    }

    private List<RecipientReply> fillReply(SmtpReply reply) {
        for (int i = 0; i < results.length; i++) {
            if (results[i] == null) {
                results[i] = RecipientReply.replied(recipients.get(i).address(), reply);
            }
        }
        return List.of(results);
    }

    private List<RecipientReply> fillLost(String error) {
        for (int i = 0; i < results.length; i++) {
            if (results[i] == null) {
                results[i] = RecipientReply.lost(recipients.get(i).address(), error);
            }
        }
        return List.of(results);
    }
}
