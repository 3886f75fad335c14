package io.mailroot.ingress;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.subethamail.smtp.internal.server.Command;
import org.subethamail.smtp.server.SMTPServer;

/** Every verb of a listener is answered by a command of ours, whatever SubEthaSMTP registers by itself. */
class SmtpCommandsTest {

    @Test
    void noStockCommandIsLeft() {
        SMTPServer server = SMTPServer.port(0).build();
        SmtpCommands.install(server);
        List<String> verbs = List.copyOf(server.getCommandHandler().getVerbs());
        assertTrue(verbs.containsAll(List.of("HELO", "EHLO", "MAIL", "RCPT", "DATA", "AUTH", "STARTTLS", "BDAT", "QUIT")), verbs.toString());
        for (String verb : verbs) {
            Command command = server.getCommandHandler().getCommand(verb);
            assertTrue(command instanceof CommandLineLimit, verb);
            String type = ((CommandLineLimit) command).wrapped().getClass().getName();
            assertTrue(type.startsWith("io.mailroot.") && !((CommandLineLimit) command).wrapped().toString().contains("subethamail"),
                    verb + " is answered by " + ((CommandLineLimit) command).wrapped());
        }
    }

    @Test
    void dispatchableIsHowSubEthaSmtpLooksCommandsUp() {
        SMTPServer server = SMTPServer.port(0).build();
        SmtpCommands.install(server);
        for (String line : List.of("NOOP", "noop x", "MAIL FROM:<a@b>", "MAILFROM:<a@b>", "STARTTLS", "starttls now", "HELO\tx")) {
            assertTrue(SmtpCommands.dispatchable(server, line), line);
        }
        for (String line : List.of("", "NOO", "FOO bar", "XSTARTTLS", "    ", "STAR")) {
            assertFalse(SmtpCommands.dispatchable(server, line), line);
        }
    }
}
